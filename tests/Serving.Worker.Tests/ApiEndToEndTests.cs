using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Serving.Worker.Protocol;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Requests through a real API worker to a real runner worker over a Unix socket.</summary>
public class ApiEndToEndTests(ServingFixture fixture) : IClassFixture<ServingFixture>
{
    private HttpClient Client => fixture.Client;

    private static void AssertWorkerHeader(HttpResponseMessage response) =>
        Assert.Equal("api-1", Assert.Single(response.Headers.GetValues("x-serving-worker")));

    private static async Task<JsonElement> ErrorBody(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)expected, json.GetProperty("status").GetInt32());
        var message = json.GetProperty("error").GetString()!;
        Assert.DoesNotContain("   at ", message);
        return json;
    }

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
    public async Task Invalid_json_is_400_before_reaching_the_runner()
    {
        foreach (var body in new[] { "{\"values\":[1,", "", "{} {}", "nope" })
        {
            using var response = await Client.PostAsync("/sum", TestHost.Body(body, "application/json"));
            var json = await ErrorBody(response, HttpStatusCode.BadRequest);
            AssertWorkerHeader(response);
            Assert.Contains("not valid JSON", json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task RunnerInputException_is_400_with_its_message()
    {
        using var response = await Client.PostAsync("/bad", TestHost.Body("xyz"));
        var json = await ErrorBody(response, HttpStatusCode.BadRequest);
        Assert.Equal("bad input: xyz", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_throwing_method_is_500_without_details_and_is_logged_by_the_runner()
    {
        using var response = await Client.PostAsync("/fail", TestHost.Body("x"));
        var text = await response.Content.ReadAsStringAsync();
        await ErrorBody(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("secret internal detail", text);
        Assert.DoesNotContain("TestRunner.Fail", text);
        Assert.Contains("InvalidOperationException", text);
        await fixture.Runner.WaitForLineAsync(l => l.StartsWith("[err] fail: ") && l.Contains("secret internal detail") && l.Contains("TestRunner.Fail"),
            TimeSpan.FromSeconds(5), "the full exception on stderr");
    }

    [Fact]
    public async Task A_call_beyond_the_timeout_is_504()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Client.PostAsync("/slow", TestHost.Body("10000"));
        await ErrorBody(response, HttpStatusCode.GatewayTimeout);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 6);
    }

    [Fact]
    public async Task Unknown_route_404_wrong_method_405_and_too_large_413()
    {
        using (var response = await Client.PostAsync("/nope", TestHost.Body("x")))
        {
            await ErrorBody(response, HttpStatusCode.NotFound);
            AssertWorkerHeader(response);
        }
        using (var response = await Client.GetAsync("/echo"))
        {
            await ErrorBody(response, HttpStatusCode.MethodNotAllowed);
            AssertWorkerHeader(response);
        }
        using (var response = await Client.PostAsync("/echo", new ByteArrayContent(new byte[1024 * 1024 + 1])))
        {
            await ErrorBody(response, HttpStatusCode.RequestEntityTooLarge);
            AssertWorkerHeader(response);
        }
        // Chunked (no Content-Length): the limit still holds.
        var chunked = new StreamContent(new MemoryStream(new byte[2 * 1024 * 1024]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await Client.SendAsync(request))
            await ErrorBody(response, HttpStatusCode.RequestEntityTooLarge);
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
    public async Task Runner_grpc_surface_directly()
    {
        using var channel = RunnerGrpc.Unix(fixture.Host.SocketPath);
        var client = new Protocol.Runner.RunnerClient(channel);

        // A batch of two payloads gives two results, in order.
        var request = new CallRequest { Method = "upper" };
        request.Payloads.Add(ByteString.CopyFromUtf8("a"));
        request.Payloads.Add(ByteString.CopyFromUtf8("b"));
        var reply = await client.CallAsync(request);
        Assert.Equal(["A", "B"], reply.Payloads.Select(p => p.ToStringUtf8()));

        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.CallAsync(new CallRequest { Method = "nope", Payloads = { ByteString.Empty } }).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);

        var bad = await Assert.ThrowsAsync<RpcException>(() => client.CallAsync(new CallRequest { Method = "bad", Payloads = { ByteString.CopyFromUtf8("q") } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal("bad input: q", bad.Status.Detail);

        var fail = await Assert.ThrowsAsync<RpcException>(() => client.CallAsync(new CallRequest { Method = "fail", Payloads = { ByteString.CopyFromUtf8("q") } }).ResponseAsync);
        Assert.Equal(StatusCode.Internal, fail.StatusCode);
        Assert.DoesNotContain("secret internal detail", fail.Status.Detail);

        // Uds endpoints need no secret.
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public void Log_lines_are_plain()
    {
        foreach (var line in fixture.Runner.Lines.Concat(fixture.Api.Lines))
        {
            Assert.DoesNotContain("\u001b[", line);
            Assert.Matches(@"^(\[err\] )?(@@serving (ready|stopping)|(info|warn|fail|crit|error|dbug|trce): .*)$", line);
        }
        Assert.Contains("@@serving ready", fixture.Runner.Lines);
        Assert.Contains("@@serving ready", fixture.Api.Lines);
    }
}
