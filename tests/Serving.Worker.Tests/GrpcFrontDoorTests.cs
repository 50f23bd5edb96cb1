using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Serving.Grpc.V1;
using Serving.Worker.Tests.Infrastructure;
using static Serving.Worker.Tests.Infrastructure.FrontDoorClient;

namespace Serving.Worker.Tests;

/// <summary>
/// One runner worker (Unix socket) behind two API workers on the same host.json service: one with
/// protocol Grpc (the front door under test) and one with protocol Http (the reference for results).
/// </summary>
public sealed class GrpcFrontDoorFixture : IAsyncLifetime
{
    public const int MaxMessageBytes = 64 * 1024;

    public TestHost Host { get; } = new();
    public WorkerProcess Runner { get; private set; } = null!;
    public WorkerProcess Api { get; private set; } = null!;
    public WorkerProcess HttpApi { get; private set; } = null!;
    public int Port { get; } = TestHost.FreeTcpPort();
    public int HttpPort { get; } = TestHost.FreeTcpPort();
    public GrpcChannel Channel { get; private set; } = null!;
    public global::Serving.Grpc.V1.Serving.ServingClient Client { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host.WriteConfig(requestTimeoutSeconds: 2, maxMessageBytes: MaxMessageBytes, protocol: "Grpc");
        var httpConfig = Path.Combine(Host.Directory, "http.json");
        Host.WriteConfig(requestTimeoutSeconds: 2, maxMessageBytes: MaxMessageBytes, protocol: "Http", path: httpConfig);
        Runner = Host.StartRunner();
        Api = Host.StartApi($"http://127.0.0.1:{Port}");
        HttpApi = Host.StartApi($"http://127.0.0.1:{HttpPort}", index: 2, configPath: httpConfig);
        await Task.WhenAll(Runner.WaitReadyAsync(), Api.WaitReadyAsync(), HttpApi.WaitReadyAsync());
        Channel = FrontDoorClient.Channel(Port);
        Client = FrontDoorClient.Client(Channel);
        Http = TestHost.Client(HttpPort);
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>serving.v1.Serving, health, reflection and probes of an API worker with protocol Grpc.</summary>
public class GrpcFrontDoorTests(GrpcFrontDoorFixture fixture) : IClassFixture<GrpcFrontDoorFixture>
{
    private global::Serving.Grpc.V1.Serving.ServingClient Client => fixture.Client;

    private async Task<byte[]> ViaHttp(string route, byte[] body)
    {
        using var response = await fixture.Http.PostAsync(route, new ByteArrayContent(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task Call_gives_the_same_results_as_http_in_the_field_of_the_output_kind()
    {
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var cases = new (string Route, byte[] Body, CallReply.OutputOneofCase Kind)[]
        {
            ("/echo", binary, CallReply.OutputOneofCase.Data),
            ("/echo", new byte[60 * 1024], CallReply.OutputOneofCase.Data),
            ("/echo", [], CallReply.OutputOneofCase.Data),
            ("/reverse", [1, 2, 3], CallReply.OutputOneofCase.Data),
            ("/upper", "grün"u8.ToArray(), CallReply.OutputOneofCase.Text),
            ("/sum", "{\"values\":[1,2,39],\"request_id\":\"r1\"}"u8.ToArray(), CallReply.OutputOneofCase.Json),
        };
        foreach (var (route, body, kind) in cases)
        {
            var expected = await ViaHttp(route, body);
            using var call = Client.CallAsync(Data(route, body));
            var reply = await call.ResponseAsync;
            Assert.Equal(kind, reply.OutputCase);
            var actual = kind switch
            {
                CallReply.OutputOneofCase.Text => System.Text.Encoding.UTF8.GetBytes(reply.Text),
                CallReply.OutputOneofCase.Json => reply.Json.ToByteArray(),
                _ => reply.Data.ToByteArray(),
            };
            Assert.Equal(expected, actual);
            Assert.Equal("api-1", await WorkerOf(call));
        }
        Assert.Equal("{\"total\":42,\"request_id\":\"r1\"}", (await Client.CallAsync(Json("sum", "{\"values\":[1,2,39],\"request_id\":\"r1\"}"))).Json.ToStringUtf8());
    }

    [Fact]
    public async Task The_api_is_matched_with_or_without_slash_in_any_case_and_any_input_field_is_accepted()
    {
        foreach (var name in new[] { "upper", "/upper", "UPPER", "/Upper" })
            Assert.Equal("ABC", (await Client.CallAsync(Text(name, "abc"))).Text);

        Assert.Equal("ABC", (await Client.CallAsync(Data("upper", "abc"u8.ToArray()))).Text);
        Assert.Equal("ABC", (await Client.CallAsync(Json("upper", "abc"))).Text);
        Assert.Equal("{\"total\":3,\"request_id\":null}", (await Client.CallAsync(Text("sum", "{\"values\":[1,2]}"))).Json.ToStringUtf8());
        Assert.Equal("{\"total\":3,\"request_id\":null}", (await Client.CallAsync(Data("sum", "{\"values\":[1,2]}"u8.ToArray()))).Json.ToStringUtf8());
        // No input at all is an empty payload.
        Assert.Equal(CallReply.OutputOneofCase.Data, (await Client.CallAsync(new CallRequest { Api = "echo" })).OutputCase);
    }

    [Fact]
    public async Task ListApis_lists_every_api_in_order()
    {
        var reply = await Client.ListApisAsync(new ListApisRequest());
        Assert.Equal(TestHost.DefaultApis.Select(a => a.Route), reply.Apis.Select(a => a.Route));
        var sum = reply.Apis.Single(a => a.Route == "/sum");
        Assert.Equal(("test", "sum", "Json", "Json"), (sum.Runner, sum.Method, sum.Input, sum.Output));
        var upper = reply.Apis.Single(a => a.Route == "/upper");
        Assert.Equal(("Text", "Text"), (upper.Input, upper.Output));
    }

    [Fact]
    public async Task CallStream_sends_one_reply_per_element_of_a_json_array_else_one_reply()
    {
        async Task<List<CallReply>> Stream(CallRequest request)
        {
            using var call = Client.CallStream(request);
            var replies = new List<CallReply>();
            await foreach (var reply in call.ResponseStream.ReadAllAsync())
                replies.Add(reply);
            Assert.Equal("api-1", (await call.ResponseHeadersAsync).GetValue(WorkerHeader));
            return replies;
        }

        var words = await Stream(Text("split", "alpha  beta {gamma}"));
        Assert.Equal(["\"alpha\"", "\"beta\"", "\"{gamma}\""], words.Select(r => r.Json.ToStringUtf8()));
        Assert.All(words, r => Assert.Equal(CallReply.OutputOneofCase.Json, r.OutputCase));

        var many = string.Join(' ', Enumerable.Range(0, 150).Select(i => "w" + i));
        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"\"w{i}\""), (await Stream(Text("split", many))).Select(r => r.Json.ToStringUtf8()));

        Assert.Empty(await Stream(Text("split", "   ")));

        var one = Assert.Single(await Stream(Json("sum", "{\"values\":[4]}")));
        Assert.Equal("{\"total\":4,\"request_id\":null}", one.Json.ToStringUtf8());
        Assert.Equal("ABC", Assert.Single(await Stream(Text("upper", "abc"))).Text);

        using var missing = Client.CallStream(Text("nope", "x"));
        var error = await Assert.ThrowsAsync<RpcException>(() => missing.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Unknown_api_is_NOT_FOUND_and_bad_input_INVALID_ARGUMENT_with_the_worker_header()
    {
        var (missing, worker) = await Fails(Client, Text("nope", "x"), StatusCode.NotFound);
        Assert.Equal("no API named 'nope'", missing.Status.Detail);
        Assert.Equal("api-1", worker);
        Assert.Equal("NotFound", ProblemOf(missing).ErrorId);
        Assert.False(string.IsNullOrEmpty(ProblemOf(missing).RequestId));
        await Fails(Client, Text("", "x"), StatusCode.NotFound);

        var cases = new (string Body, string Detail)[]
        {
            ("{\"values\":[1,", "the input is not valid JSON (syntax error in line 1, position 13)"),
            ("", "the input is empty"),
            ("{} {}", "the input has more after its JSON value (line 1, position 4)"),
            ("nope", "the input is not valid JSON (syntax error in line 1, position 2)"),
        };
        foreach (var (body, detail) in cases)
        {
            var (invalid, w) = await Fails(Client, Json("sum", body), StatusCode.InvalidArgument);
            Assert.Equal(detail, invalid.Status.Detail);
            Assert.Equal("InvalidJson", ProblemOf(invalid).ErrorId);
            Assert.Equal("api-1", w);
        }
        await Fails(Client, Text("sum", "{"), StatusCode.InvalidArgument);
        // A JSON API over a method taking raw bytes: the runner checks it, told in this surface's words.
        var (raw, _) = await Fails(Client, Json("echojson", "{\"a\":"), StatusCode.InvalidArgument);
        Assert.Equal("the input is not valid JSON (syntax error in line 1, position 6)", raw.Status.Detail);
        Assert.Equal("InvalidJson", ProblemOf(raw).ErrorId);

        var (shape, _) = await Fails(Client, Json("sum", "{\"values\":[1e20]}"), StatusCode.InvalidArgument);
        Assert.Equal("invalid input in $.values[0]: expected an integer from -2147483648 to 2147483647, got 1e20 (not an integer in that range)", shape.Status.Detail);
        Assert.Equal("InvalidInput", ProblemOf(shape).ErrorId);

        var (bad, _) = await Fails(Client, Text("bad", "xyz"), StatusCode.InvalidArgument);
        Assert.Equal("bad input: xyz", bad.Status.Detail);
        Assert.Equal("InvalidInput", ProblemOf(bad).ErrorId);
    }

    [Fact]
    public async Task A_throwing_method_is_INTERNAL_without_details_and_the_runner_logs_it()
    {
        var (error, worker) = await Fails(Client, Text("fail", "x"), StatusCode.Internal);
        Assert.Equal("api-1", worker);
        Assert.DoesNotContain("secret internal detail", error.Status.Detail);
        Assert.DoesNotContain("TestRunner.Fail", error.Status.Detail);
        Assert.DoesNotContain("\n", error.Status.Detail);
        var (errorId, requestId) = ProblemOf(error);
        Assert.Equal("RunnerFailed", errorId);
        Assert.Equal($"runner 'test' method 'fail' failed; details are in the serving host's log under request id {requestId}", error.Status.Detail);
        await fixture.Api.WaitForLineAsync(l => l.StartsWith($"[err] fail: RunnerFailed request {requestId}: runner 'test' method 'fail' failed (the runner worker's log has the exception under this request id)"),
            TimeSpan.FromSeconds(5), "the API worker's line with the client's request id");
        await fixture.Runner.WaitForEventAsync(l => l.StartsWith($"[err] fail: RunnerFailed request {requestId}: ") && l.Contains("secret internal detail") && l.Contains("TestRunner.Fail"),
            TimeSpan.FromSeconds(5), "the full exception on the runner's stderr");

        var (nan, _) = await Fails(Client, Text("nan", "x"), StatusCode.Internal);
        Assert.StartsWith("runner 'test' method 'nan' returned a result that cannot be written as JSON; details are in the serving host's log under request id ", nan.Status.Detail);
    }

    [Fact]
    public async Task The_earlier_of_the_client_deadline_and_the_request_timeout_is_DEADLINE_EXCEEDED_at_the_runner_too()
    {
        // The runner connection is open (a first call opens it; this test is about the deadline, not that).
        await Client.CallAsync(Text("upper", "warm"));
        // The client's deadline (300 ms) is earlier than requestTimeoutSeconds (2 s).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Fails(Client, Text("slow", "10000"), StatusCode.DeadlineExceeded, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.8), $"took {watch.Elapsed}");
        await fixture.Runner.WaitForLineAsync(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"slow cancelled after \d+ ms of 10000 ms"),
            TimeSpan.FromSeconds(5), "the runner saw the client's deadline");

        // No client deadline: requestTimeoutSeconds (2 s) applies.
        watch.Restart();
        var (error, _) = await Fails(Client, Text("slow", "10001"), StatusCode.DeadlineExceeded);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 6);
        Assert.Equal("runner 'test' did not answer within 2 s", error.Status.Detail);
        Assert.Equal("RunnerTimeout", ProblemOf(error).ErrorId);
        await fixture.Runner.WaitForLineAsync(l => l.Contains("slow cancelled after") && l.Contains("of 10001 ms"),
            TimeSpan.FromSeconds(5), "the runner saw the request timeout");
    }

    [Fact]
    public async Task A_client_cancellation_reaches_the_runner()
    {
        using var cts = new CancellationTokenSource();
        using var call = Client.CallAsync(Text("slow", "20000"), cancellationToken: cts.Token);
        await fixture.Runner.WaitForLineAsync(l => l.Contains("slow started 20000"), TimeSpan.FromSeconds(10), "the slow call to start");
        cts.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await fixture.Runner.WaitForLineAsync(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"slow cancelled after \d+ ms of 20000 ms"),
            TimeSpan.FromSeconds(5), "the runner saw the cancellation");
    }

    [Fact]
    public async Task A_message_over_maxMessageBytes_is_RESOURCE_EXHAUSTED()
    {
        await Fails(Client, Data("echo", new byte[GrpcFrontDoorFixture.MaxMessageBytes + 1]), StatusCode.ResourceExhausted);
        // The connection is still good.
        Assert.Equal(1000, (await Client.CallAsync(Data("echo", new byte[1000]))).Data.Length);
    }

    [Fact]
    public async Task Health_answers_for_the_empty_name_and_the_service_and_not_for_others()
    {
        var health = new Health.HealthClient(fixture.Channel);
        foreach (var name in new[] { "", "serving.v1.Serving" })
        {
            using var call = health.CheckAsync(new HealthCheckRequest { Service = name });
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await call.ResponseAsync).Status);
            Assert.Equal("api-1", await WorkerOf(call));
        }
        var unknown = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "other" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var watch = health.Watch(new HealthCheckRequest { Service = "other" }, cancellationToken: cts.Token);
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.ServiceUnknown, watch.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Reflection_lists_the_services_v1alpha_and_v1()
    {
        var alpha = new global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(fixture.Channel);
        using (var call = alpha.ServerReflectionInfo())
        {
            await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
            await call.RequestStream.CompleteAsync();
            Assert.True(await call.ResponseStream.MoveNext());
            var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
            Assert.Contains("serving.v1.Serving", names);
            Assert.Contains("grpc.health.v1.Health", names);
        }

        var v1 = new global::Grpc.Reflection.V1.ServerReflection.ServerReflectionClient(fixture.Channel);
        using (var call = v1.ServerReflectionInfo())
        {
            await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1.ServerReflectionRequest { FileContainingSymbol = "serving.v1.Serving" });
            await call.RequestStream.CompleteAsync();
            Assert.True(await call.ResponseStream.MoveNext());
            var file = call.ResponseStream.Current.FileDescriptorResponse;
            Assert.NotNull(file);
            Assert.NotEmpty(file.FileDescriptorProto);
        }
    }

    [Fact]
    public async Task Probes_are_served_over_http2_on_the_same_endpoint_and_http1_is_refused()
    {
        using var http2 = new HttpClient(new SocketsHttpHandler())
        {
            BaseAddress = new Uri($"http://127.0.0.1:{fixture.Port}"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (var probe in new[] { "/livez", "/readyz", "/healthz" })
        {
            using var response = await http2.GetAsync(probe);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(new Version(2, 0), response.Version);
            Assert.Equal("api-1", response.Headers.GetValues(WorkerHeader).Single());
            Assert.Contains("api-1", await response.Content.ReadAsStringAsync());
        }
        using (var response = await http2.GetAsync("/nope"))
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        using var http1 = TestHost.Client(fixture.Port);
        using (var response = await http1.GetAsync("/livez"))
            Assert.False(response.IsSuccessStatusCode);
    }
}
