using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Requests through a real API worker to a real runner worker over a Unix socket.</summary>
public class ApiEndToEndTests(ServingFixture fixture) : IClassFixture<ServingFixture>
{
    private HttpClient Client => fixture.Client;

    private static void AssertWorkerHeader(HttpResponseMessage response) =>
        Assert.Equal("api-1", Assert.Single(response.Headers.GetValues("x-serving-worker")));

    /// <summary>Asserts an RFC 9457 problem body of the expected status and error id; returns it.</summary>
    public static async Task<JsonElement> ProblemBody(HttpResponseMessage response, HttpStatusCode expected, string errorId)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        ClientText.AssertClean(text);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)expected, json.GetProperty("status").GetInt32());
        Assert.Equal(errorId, json.GetProperty("errorId").GetString());
        Assert.StartsWith("urn:serving:problem:", json.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("requestId").GetString()));
        // One id: the body's is the one the response header carries.
        Assert.Equal(json.GetProperty("requestId").GetString(), Assert.Single(response.Headers.GetValues("X-Request-Id")));
        return json;
    }

    [Fact]
    public async Task A_clients_request_id_is_adopted_and_echoed_and_a_bad_one_replaced()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/sum") { Content = TestHost.Body("nope", "application/json") })
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", "3f2a9c1e-7b4d-4e8a-9f00-0123456789ab");
            using var response = await Client.SendAsync(request);
            var json = await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidJson");
            Assert.Equal("3f2a9c1e-7b4d-4e8a-9f00-0123456789ab", json.GetProperty("requestId").GetString());
        }
        foreach (var bad in new[] { "two words", new string('a', 129), "x\"y" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/livez");
            request.Headers.TryAddWithoutValidation("X-Request-Id", bad);
            using var response = await Client.SendAsync(request);
            var echoed = Assert.Single(response.Headers.GetValues("X-Request-Id"));
            Assert.NotEqual(bad, echoed);
            Assert.False(string.IsNullOrEmpty(echoed));
        }
    }

    private static string Detail(JsonElement problem) => problem.GetProperty("detail").GetString()!;

    [Fact]
    public async Task Echo_round_trips_binary_bodies()
    {
        var small = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var large = new byte[300_000];
        Random.Shared.NextBytes(large);
        foreach (var body in new[] { small, large, Array.Empty<byte>() })
        {
            using var response = await Client.PostAsync("/echo", new ByteArrayContent(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertWorkerHeader(response);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Memory_text_and_json_methods()
    {
        using (var response = await Client.PostAsync("/reverse", new ByteArrayContent([1, 2, 3])))
            Assert.Equal(new byte[] { 3, 2, 1 }, await response.Content.ReadAsByteArrayAsync());

        using (var response = await Client.PostAsync("/upper", TestHost.Body("grün")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("GRÜN", await response.Content.ReadAsStringAsync());
        }

        using (var response = await Client.PostAsync("/sum", TestHost.Body("{\"values\":[1,2,39],\"request_id\":\"r1\"}", "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("{\"total\":42,\"request_id\":\"r1\"}", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Invalid_json_is_400_invalid_json_from_the_one_parse_in_the_runner()
    {
        var cases = new (string Body, string Detail)[]
        {
            ("{\"values\":[1,", "the request body is not valid JSON (syntax error in line 1, position 13)"),
            ("", "the request body is empty"),
            (" \n ", "the request body is empty"),
            ("{} {}", "the request body has more after its JSON value (line 1, position 4)"),
            ("nope", "the request body is not valid JSON (syntax error in line 1, position 2)"),
            (new string('[', 300), "the request body is not valid JSON (syntax error in line 1, position 301)"),
        };
        foreach (var (body, detail) in cases)
        {
            using var response = await Client.PostAsync("/sum", TestHost.Body(body, "application/json"));
            var json = await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidJson");
            AssertWorkerHeader(response);
            Assert.Equal(detail, Detail(json));
            Assert.Equal("urn:serving:problem:invalid-json", json.GetProperty("type").GetString());
            Assert.Equal("Invalid JSON", json.GetProperty("title").GetString());
            Assert.Equal("api-1", json.GetProperty("worker").GetString());
        }
        // Not UTF-8 inside a string: not JSON either (RFC 8259).
        using var bytes = new ByteArrayContent([.. "{\"values\":[1],\"request_id\":\""u8, 0xC3, 0x28, .. "\"}"u8]);
        using (var response = await Client.PostAsync("/sum", bytes))
            Assert.Contains("not valid UTF-8", Detail(await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidJson")));
        // Deep but valid: the runner's decoder says what it takes (where it stopped reading).
        using (var response = await Client.PostAsync("/sum", TestHost.Body(new string('[', 1000) + new string(']', 1000), "application/json")))
            Assert.Equal("invalid input in $: expected an object with 'values' and 'request_id', got an array",
                Detail(await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidInput")));
    }

    [Fact]
    public async Task A_json_api_over_a_raw_method_is_still_checked_to_be_json()
    {
        using (var ok = await Client.PostAsync("/echojson", TestHost.Body("{\"a\":[1,2]}", "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("{\"a\":[1,2]}", await ok.Content.ReadAsStringAsync());
        }
        var cases = new (string Body, string Detail)[]
        {
            ("{\"a\":", "the request body is not valid JSON (syntax error in line 1, position 6)"),
            ("", "the request body is empty"),
            (new string('[', 257) + new string(']', 257), "the request body nests deeper than 256 levels"),
        };
        foreach (var (body, detail) in cases)
        {
            using var response = await Client.PostAsync("/echojson", TestHost.Body(body, "application/json"));
            Assert.Equal(detail, Detail(await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidJson")));
        }
    }

    [Fact]
    public async Task Json_that_does_not_fit_is_400_naming_the_path_and_the_expected_shape()
    {
        var cases = new (string Body, string Detail)[]
        {
            ("{\"values\":[1,1e20]}", "invalid input in $.values[1]: expected an integer from -2147483648 to 2147483647, got 1e20 (not an integer in that range)"),
            ("{\"values\":\"abc\"}", "invalid input in $.values: expected an array of integers from -2147483648 to 2147483647, got a string"),
            ("[]", "invalid input in $: expected an object with 'values' and 'request_id', got an array"),
            ("{\"values\":[1],\"request_id\":7}", "invalid input in $.request_id: expected a string, got a number"),
        };
        foreach (var (body, detail) in cases)
        {
            using var response = await Client.PostAsync("/sum", TestHost.Body(body, "application/json"));
            Assert.Equal(detail, Detail(await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidInput")));
        }
    }

    [Fact]
    public async Task RunnerInputException_is_400_with_its_message()
    {
        using var response = await Client.PostAsync("/bad", TestHost.Body("xyz"));
        var json = await ProblemBody(response, HttpStatusCode.BadRequest, "InvalidInput");
        Assert.Equal("bad input: xyz", Detail(json));
    }

    [Fact]
    public async Task A_throwing_method_is_500_without_details_and_is_logged_by_the_runner()
    {
        using var response = await Client.PostAsync("/fail", TestHost.Body("x"));
        var text = await response.Content.ReadAsStringAsync();
        var json = await ProblemBody(response, HttpStatusCode.InternalServerError, "RunnerFailed");
        Assert.DoesNotContain("secret internal detail", text);
        Assert.DoesNotContain("TestRunner.Fail", text);
        Assert.DoesNotContain("InvalidOperation", text);
        var requestId = json.GetProperty("requestId").GetString()!;
        Assert.Equal($"runner 'test' method 'fail' failed; details are in the serving host's log under request id {requestId}", Detail(json));

        // The call carries the client's request id to the runner: the API worker's line and the runner
        // worker's line (with the exception) both name it.
        await fixture.Api.WaitForLineAsync(l => l.StartsWith($"[err] fail: RunnerFailed request {requestId}: runner 'test' method 'fail' failed (the runner worker's log has the exception under this request id)"),
            TimeSpan.FromSeconds(5), "the API worker's log line");
        // The exception follows the runner's line on lines of its own, indented (never joined onto it).
        var failLine = $"[err] fail: RunnerFailed request {requestId}: runner 'test' method 'fail' failed";
        await fixture.Runner.WaitForLineAsync(l => l == failLine, TimeSpan.FromSeconds(5), "the runner's line with the request id");
        await fixture.Runner.WaitForLineAsync(l => l.StartsWith("[err]     ") && l.Contains("TestRunner.Fail"), TimeSpan.FromSeconds(5), "the exception's stack");
        var lines = fixture.Runner.Lines.ToList();
        var at = lines.IndexOf(failLine);
        Assert.StartsWith("[err]     System.InvalidOperationException: secret internal detail", lines[at + 1]);
    }

    [Fact]
    public async Task A_result_that_cannot_be_written_as_json_is_500_and_the_runner_logs_why()
    {
        using var response = await Client.PostAsync("/nan", TestHost.Body("x"));
        var json = await ProblemBody(response, HttpStatusCode.InternalServerError, "RunnerFailed");
        Assert.StartsWith("runner 'test' method 'nan' returned a result that cannot be written as JSON; details are in the serving host's log under request id ", Detail(json));
        await fixture.Runner.WaitForLineAsync(l => l.StartsWith("[err] fail: RunnerFailed request ") && l.EndsWith("method 'nan' returned a result that cannot be written as JSON"),
            TimeSpan.FromSeconds(5), "the runner's line");
        await fixture.Runner.WaitForLineAsync(l => l.StartsWith("[err]     System.ArgumentException"), TimeSpan.FromSeconds(5), "the encoder's exception below it");
    }

    [Fact]
    public async Task A_call_beyond_the_timeout_is_504()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Client.PostAsync("/slow", TestHost.Body("10000"));
        var json = await ProblemBody(response, HttpStatusCode.GatewayTimeout, "RunnerTimeout");
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 6);
        Assert.Equal("runner 'test' did not answer within 2 s", Detail(json));
        var requestId = json.GetProperty("requestId").GetString();
        await fixture.Api.WaitForLineAsync(l => l == $"[err] warn: RunnerTimeout request {requestId}: runner 'test' did not answer within 2 s (method 'slow')",
            TimeSpan.FromSeconds(5), "a warning line with the request id");
    }

    [Fact]
    public async Task Unknown_route_404_wrong_method_405_and_too_large_413()
    {
        using (var response = await Client.PostAsync("/nope", TestHost.Body("x")))
        {
            Assert.Equal("no API has the route '/nope'", Detail(await ProblemBody(response, HttpStatusCode.NotFound, "NotFound")));
            AssertWorkerHeader(response);
        }
        using (var response = await Client.GetAsync("/echo"))
        {
            Assert.Equal("'/echo' accepts POST only", Detail(await ProblemBody(response, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed")));
            Assert.Equal("POST", response.Content.Headers.Allow.Single());
            AssertWorkerHeader(response);
        }
        using (var response = await Client.PostAsync("/livez", TestHost.Body("x")))
            await ProblemBody(response, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed");
        using (var response = await Client.PostAsync("/echo", new ByteArrayContent(new byte[1024 * 1024 + 1])))
        {
            Assert.Equal("the request body is larger than 1048576 bytes", Detail(await ProblemBody(response, HttpStatusCode.RequestEntityTooLarge, "PayloadTooLarge")));
            AssertWorkerHeader(response);
        }
        // HEAD: the status and headers of the problem, no body.
        using (var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/nope")))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
            Assert.Equal("application/problem+json", head.Content.Headers.ContentType?.MediaType);
        }
        // 4xx are the client's: not logged.
        Assert.DoesNotContain(fixture.Api.Lines, l => l.Contains("NotFound") || l.Contains("MethodNotAllowed") || l.Contains("PayloadTooLarge"));
        // Chunked (no Content-Length): the limit still holds.
        var chunked = new StreamContent(new MemoryStream(new byte[2 * 1024 * 1024]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await Client.SendAsync(request))
            await ProblemBody(response, HttpStatusCode.RequestEntityTooLarge, "PayloadTooLarge");
    }

    [Fact]
    public async Task Probes_report_live_ready_and_health()
    {
        using (var response = await Client.GetAsync("/livez"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertWorkerHeader(response);
        }
        using (var response = await Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertWorkerHeader(response);
        }
        using (var response = await Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("ok", json.GetProperty("status").GetString());
            Assert.Equal("SERVING", json.GetProperty("runners").GetProperty("test").GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Concurrent_calls_all_succeed()
    {
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await Client.PostAsync("/upper", TestHost.Body("call " + i));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("CALL " + i, await response.Content.ReadAsStringAsync());
        });
        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task Runner_protocol_surface_directly()
    {
        using var wire = await RunnerWire.OpenUnixAsync(fixture.Host.SocketPath);

        // Calls on one connection are told apart by id; replies come back with theirs.
        await wire.SendAsync([.. RunnerWire.CallFrame(7, "upper", "a"u8), .. RunnerWire.CallFrame(8, "upper", "b"u8)]);
        var replies = new Dictionary<uint, string>();
        for (var i = 0; i < 2; i++)
        {
            var (type, id, payload) = await wire.ReadFrameAsync();
            Assert.Equal(RunnerWire.Reply, type);
            var (status, text) = RunnerWire.ParseReply(payload);
            Assert.Equal(0, status);
            replies[id] = text;
        }
        Assert.Equal("A", replies[7]);
        Assert.Equal("B", replies[8]);

        // Per-call statuses: unknown method (6), invalid input (1) with the runner's message, failed (2) without internals.
        await wire.CallAsync(9, "nope", "");
        var unknown = RunnerWire.ParseReply((await wire.ReadFrameAsync()).Payload);
        Assert.Equal((6, "runner 'test' has no method 'nope'"), ((int)unknown.Status, unknown.Text));
        await wire.CallAsync(10, "bad", "q");
        var bad = RunnerWire.ParseReply((await wire.ReadFrameAsync()).Payload);
        Assert.Equal((1, "bad input: q"), ((int)bad.Status, bad.Text));
        await wire.CallAsync(11, "fail", "q");
        var fail = RunnerWire.ParseReply((await wire.ReadFrameAsync()).Payload);
        Assert.Equal((2, "runner 'test' method 'fail' failed"), ((int)fail.Status, fail.Text));
        // The exception is in the runner worker's log under the request id the call carried.
        await TestHost.Eventually(() => Task.FromResult(fixture.Runner.Events.Any(l => l.Contains("RunnerFailed request test-request") && l.Contains("secret internal detail"))),
            TimeSpan.FromSeconds(5), "the runner's log line for the failed call");

        // A ping is answered: serving. Uds endpoints need no secret.
        await wire.SendAsync(RunnerWire.Frame(RunnerWire.Ping, 12, []));
        var pong = await wire.ReadFrameAsync();
        Assert.Equal((RunnerWire.Pong, 12u, (byte)1), (pong.Type, pong.Id, pong.Payload[0]));
    }

    [Fact]
    public void Log_lines_are_plain()
    {
        foreach (var line in fixture.Runner.Lines.Concat(fixture.Api.Lines))
        {
            Assert.DoesNotContain("\u001b[", line);
            // An event's line, or a line continuing it (an exception's), indented.
            Assert.Matches(@"^(\[err\] )?(@@serving (ready|stopping|stats \{.*\})|(info|warn|fail|crit|error|dbug|trce): .*|    .*)$", line);
        }
        Assert.Contains("@@serving ready", fixture.Runner.Lines);
        Assert.Contains("@@serving ready", fixture.Api.Lines);
    }
}
