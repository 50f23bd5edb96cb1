using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Serving.Grpc.V1;
using Serving.Worker.Tests.Infrastructure;
using static Serving.Worker.Tests.Infrastructure.FrontDoorClient;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Serving.Worker.Tests;

/// <summary>The gRPC front door's health transitions, SO_REUSEPORT workers, the dev role, bad command lines.</summary>
public class GrpcHostingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Health_follows_the_runners_and_a_watch_sees_every_change_and_the_stop()
    {
        using var host = new TestHost();
        host.WriteConfig(protocol: "Grpc");
        var port = TestHost.FreeTcpPort();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await api.WaitReadyAsync();
        using var channel = Channel(port);
        var health = new Health.HealthClient(channel);

        async Task<ServingStatus> Check() => (await health.CheckAsync(new HealthCheckRequest())).Status;

        // No runner yet.
        Assert.Equal(ServingStatus.NotServing, await Check());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = health.Watch(new HealthCheckRequest { Service = "serving.v1.Serving" }, cancellationToken: cts.Token);
        var seen = new List<ServingStatus>();
        async Task Next(ServingStatus expected)
        {
            using var step = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            step.CancelAfter(Patience);
            Assert.True(await watch.ResponseStream.MoveNext(step.Token), $"the watch ended; saw {string.Join(", ", seen)}");
            seen.Add(watch.ResponseStream.Current.Status);
            Assert.Equal(expected, watch.ResponseStream.Current.Status);
        }
        await Next(ServingStatus.NotServing);
        Assert.Equal("api-1", (await watch.ResponseHeadersAsync).GetValue(WorkerHeader));

        // The runner comes up: SERVING.
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();
        await Next(ServingStatus.Serving);
        Assert.Equal(ServingStatus.Serving, await Check());

        // It dies: NOT_SERVING, and calls are UNAVAILABLE.
        runner.Dispose();
        await Next(ServingStatus.NotServing);
        Assert.Equal(ServingStatus.NotServing, await Check());
        await Fails(FrontDoorClient.Client(channel), Text("echo", "x"), StatusCode.Unavailable);

        // Back again, then the API worker is stopped: the watch sees NOT_SERVING and ends.
        var again = host.StartRunner(index: 2);
        await again.WaitReadyAsync();
        await Next(ServingStatus.Serving);
        api.Send("stop 20");
        await Next(ServingStatus.NotServing);
        using (var end = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            end.CancelAfter(Patience);
            Assert.False(await watch.ResponseStream.MoveNext(end.Token));
        }
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
        // An open watch does not hold up the drain.
        Assert.Equal(0, await api.WaitForExitAsync(Patience));
        Assert.Contains(api.Lines, l => l.StartsWith("info: drained in "));
    }

    [Fact]
    public async Task Api_workers_with_reuse_port_each_listen_on_the_port_and_share_new_connections()
    {
        using var host = new TestHost();
        host.WriteConfig(protocol: "Grpc", requestTimeoutSeconds: 30);
        var port = TestHost.FreeTcpPort();
        var runner = host.StartRunner();
        var api1 = host.StartApi($"http://127.0.0.1:{port}", index: 1, reusePort: true);
        var api2 = host.StartApi($"http://127.0.0.1:{port}", index: 2, reusePort: true);
        await Task.WhenAll(runner.WaitReadyAsync(), api1.WaitReadyAsync(), api2.WaitReadyAsync());

        Assert.Equal(2, ListeningSockets(port));

        // Every new connection goes to one of the two; both get some.
        var seen = new Dictionary<string, int>();
        var watch = Stopwatch.StartNew();
        while (seen.Count < 2)
        {
            Assert.True(watch.Elapsed < Patience, $"only {string.Join(", ", seen.Keys)} answered");
            using var channel = Channel(port);
            using var call = FrontDoorClient.Client(channel).CallAsync(Text("upper", "x"));
            Assert.Equal("X", (await call.ResponseAsync).Text);
            var worker = (await WorkerOf(call))!;
            seen[worker] = seen.GetValueOrDefault(worker) + 1;
        }
        Assert.Equal(["api-1", "api-2"], seen.Keys.Order());

        // A connection to api-1 with a call in flight; api-1 starts draining: its socket leaves
        // the port at once (new connections all go to api-2) and the call still completes.
        global::Grpc.Net.Client.GrpcChannel? toApi1 = null;
        while (toApi1 is null)
        {
            Assert.True(watch.Elapsed < Patience * 2, "no connection reached api-1");
            var channel = Channel(port);
            using var call = FrontDoorClient.Client(channel).CallAsync(Text("upper", "x"));
            await call.ResponseAsync;
            if (await WorkerOf(call) == "api-1")
                toApi1 = channel;
            else
                channel.Dispose();
        }
        using (toApi1)
        {
            using var inFlight = FrontDoorClient.Client(toApi1).CallAsync(Text("slow", "1500"));
            await runner.WaitForLineAsync(l => l.Contains("slow started 1500"), Patience, "the slow call to start");
            api1.Send("stop 20");
            await api1.WaitForLineAsync(l => l == "@@serving stopping", Patience, "@@serving stopping");
            await TestHost.Eventually(() => Task.FromResult(ListeningSockets(port) == 1), Patience, "api-1's socket closed");
            Assert.False(inFlight.ResponseAsync.IsCompleted, "the slow call ended before the socket check");
            for (var i = 0; i < 10; i++)
            {
                using var channel = Channel(port);
                using var call = FrontDoorClient.Client(channel).CallAsync(Text("upper", "y"));
                Assert.Equal("Y", (await call.ResponseAsync).Text);
                Assert.Equal("api-2", await WorkerOf(call));
            }
            Assert.Equal("slept 1500", (await inFlight.ResponseAsync).Text);
        }
        Assert.Equal(0, await api1.WaitForExitAsync(Patience));
    }

    [Fact]
    public async Task Dev_role_serves_the_grpc_front_door_in_process_on_an_inherited_socket()
    {
        using var host = new TestHost();
        host.WriteConfig(protocol: "Grpc", requestTimeoutSeconds: 1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(64);
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var dev = host.StartRole("dev", null, listenFd: (int)socket.Handle);
        await dev.WaitReadyAsync();

        using var channel = Channel(port);
        var client = FrontDoorClient.Client(channel);
        using (var call = client.CallAsync(Json("/sum", "{\"values\":[2,3]}")))
        {
            Assert.Equal("{\"total\":5,\"request_id\":null}", (await call.ResponseAsync).Json.ToStringUtf8());
            Assert.Equal("dev-1", await WorkerOf(call));
        }
        Assert.Equal(new byte[] { 5, 6 }, (await client.CallAsync(Data("echo", [5, 6]))).Data.ToByteArray());
        Assert.Equal(dev.Id.ToString(), (await client.CallAsync(Text("whoami", ""))).Text);
        Assert.Equal(["\"a\"", "\"b\""], await client.CallStream(Text("split", "a b")).ResponseStream.ReadAllAsync().Select(r => r.Json.ToStringUtf8()).ToListAsync());

        var (bad, _) = await Fails(client, Text("bad", "q"), StatusCode.InvalidArgument);
        Assert.Equal("bad input: q", bad.Status.Detail);
        await Fails(client, Json("sum", "{"), StatusCode.InvalidArgument);
        var (fail, worker) = await Fails(client, Text("fail", "q"), StatusCode.Internal);
        Assert.Equal("dev-1", worker);
        Assert.DoesNotContain("secret internal detail", fail.Status.Detail);
        await dev.WaitForEventAsync(l => l.StartsWith("[err] fail: ") && l.Contains("secret internal detail"), Patience, "the full exception in the worker's log");
        await Fails(client, Text("slow", "5000"), StatusCode.DeadlineExceeded);
        await Fails(client, Text("slow", "5001"), StatusCode.DeadlineExceeded, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(200)));

        using var cts = new CancellationTokenSource();
        using var cancelled = client.CallAsync(Text("slow", "900"), cancellationToken: cts.Token);
        await dev.WaitForLineAsync(l => l.Contains("slow started 900"), Patience, "the slow call to start");
        cts.Cancel();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => cancelled.ResponseAsync)).StatusCode);
        await dev.WaitForLineAsync(l => l.Contains("slow cancelled after") && l.Contains("of 900 ms"), Patience, "the method saw the cancellation");

        Assert.Equal(ServingStatus.Serving, (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);
    }

    [Theory]
    [InlineData("--listen-fd", "3", "true", "only valid with --listen http://")]
    [InlineData("--listen", "unix:/tmp/x.sock", "true", "only valid with --listen http://")]
    [InlineData("--listen", "http://127.0.0.1:1", "maybe", "--reuse-port must be 'true' or 'false'")]
    public async Task Bad_reuse_port_command_lines_exit_2(string listenOption, string listenValue, string reusePort, string message)
    {
        using var host = new TestHost();
        host.WriteConfig(protocol: "Grpc");
        var worker = host.StartRaw("bad", "--role", "api", "--config", host.ConfigPath, listenOption, listenValue, "--reuse-port", reusePort);
        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(worker.Lines, l => l.StartsWith("[err] ") && l.Contains(message));
    }

    [Fact]
    public async Task An_unknown_protocol_exits_2_and_a_port_taken_without_reuse_port_exits_4()
    {
        using var host = new TestHost();
        host.WriteConfig(protocol: "Carrier-Pigeon");
        var bad = host.StartApi("http://127.0.0.1:1");
        Assert.Equal(2, await bad.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(bad.Lines, l => l.Contains("unknown protocol 'Carrier-Pigeon'"));

        host.WriteConfig(protocol: "Grpc");
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var api = host.StartApi($"http://127.0.0.1:{port}", reusePort: true);
        Assert.Equal(4, await api.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(api.Lines, l => l.StartsWith("[err] fail: ") && l.Contains("SO_REUSEPORT"));
    }
}

