using System.Net;
using System.Net.Sockets;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Tcp runners and their secret, inherited listening sockets, the dev role.</summary>
public class TransportTests
{
    [Fact]
    public async Task A_tcp_runner_requires_the_secret_and_the_api_worker_sends_it()
    {
        using var host = new TestHost();
        var runnerPort = TestHost.FreeTcpPort();
        var apiPort = TestHost.FreeTcpPort();
        host.WriteConfig(tcpPort: runnerPort);
        var runner = host.StartRunner($"tcp:127.0.0.1:{runnerPort}");
        var api = host.StartApi($"http://127.0.0.1:{apiPort}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());

        // Without the secret, or with a wrong one, the runner says why and closes the connection.
        foreach (var offered in new string?[] { null, TestHost.Secret[..^1] + "0", TestHost.Secret + "0" })
        {
            using var refused = await RunnerWire.TcpAsync(runnerPort);
            await refused.SendAsync([.. RunnerWire.HelloFrame(offered), .. RunnerWire.CallFrame(1, "upper", "a"u8)]);
            var (type, _, payload) = await refused.ReadFrameAsync();
            Assert.Equal(RunnerWire.Error, type);
            Assert.Equal("missing or wrong secret", System.Text.Encoding.UTF8.GetString(payload));
            Assert.True(await refused.ClosedAsync());
        }

        using (var wire = await RunnerWire.TcpAsync(runnerPort))
        {
            await wire.SendHelloAsync(TestHost.Secret);
            Assert.Equal(RunnerWire.Welcome, (await wire.ReadFrameAsync()).Type);
            await wire.CallAsync(1, "upper", "a");
            Assert.Equal((0, "A"), ((int, string))RunnerWire.ParseReply((await wire.ReadFrameAsync()).Payload));
        }

        using var http = TestHost.Client(apiPort);
        using (var response = await http.PostAsync("/upper", TestHost.Body("via tcp")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("VIA TCP", await response.Content.ReadAsStringAsync());
        }
        await TestHost.Eventually(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "/readyz 200");
    }

    [Fact]
    public async Task Workers_adopt_inherited_listening_sockets_and_share_them()
    {
        using var host = new TestHost();
        host.WriteConfig();

        // The runner's Unix socket and the API's TCP socket, bound here as a supervisor would.
        using var runnerSocket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        runnerSocket.Bind(new UnixDomainSocketEndPoint(host.SocketPath));
        runnerSocket.Listen(512);
        using var apiSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        apiSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        apiSocket.Listen(512);
        var port = ((IPEndPoint)apiSocket.LocalEndPoint!).Port;

        var runner = host.StartRunner(listenFd: (int)runnerSocket.Handle);
        var api1 = host.StartApi(null, index: 1, listenFd: (int)apiSocket.Handle);
        var api2 = host.StartApi(null, index: 2, listenFd: (int)apiSocket.Handle);
        await Task.WhenAll(runner.WaitReadyAsync(), api1.WaitReadyAsync(), api2.WaitReadyAsync());

        // Fresh connections are accepted by either API worker; both reach the runner.
        var seen = new HashSet<string>();
        await TestHost.Eventually(async () =>
        {
            using var client = TestHost.Client(port);
            using var response = await client.PostAsync("/upper", TestHost.Body("fd"));
            Assert.Equal("FD", await response.Content.ReadAsStringAsync());
            seen.Add(response.Headers.GetValues("x-serving-worker").Single());
            return seen.Count == 2;
        }, TimeSpan.FromSeconds(15), "both api workers answering on the shared socket");

        // One API worker drains and exits: the shared socket keeps working for the other.
        api1.Send("stop 5");
        Assert.Equal(0, await api1.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        for (var i = 0; i < 20; i++)
        {
            using var client = TestHost.Client(port);
            using var response = await client.PostAsync("/upper", TestHost.Body("after"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("api-2", response.Headers.GetValues("x-serving-worker").Single());
        }
    }

    [Fact]
    public async Task Dev_role_serves_every_api_in_process()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 1);
        var port = TestHost.FreeTcpPort();
        var dev = host.StartRole("dev", $"http://127.0.0.1:{port}");
        await dev.WaitReadyAsync();
        using var client = TestHost.Client(port);

        using (var response = await client.PostAsync("/sum", TestHost.Body("{\"values\":[2,3]}", "application/json")))
            Assert.Equal("{\"total\":5,\"request_id\":null}", await response.Content.ReadAsStringAsync());
        using (var response = await client.PostAsync("/echo", new ByteArrayContent([5, 6])))
            Assert.Equal(new byte[] { 5, 6 }, await response.Content.ReadAsByteArrayAsync());
        using (var response = await client.PostAsync("/bad", TestHost.Body("q")))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using (var response = await client.PostAsync("/fail", TestHost.Body("q")))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.DoesNotContain("secret internal detail", await response.Content.ReadAsStringAsync());
        }
        using (var response = await client.PostAsync("/slow", TestHost.Body("5000")))
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        using (var response = await client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("dev-1", response.Headers.GetValues("x-serving-worker").Single());
        }
        // The in-process whoami runs in the dev worker itself.
        using (var response = await client.PostAsync("/whoami", TestHost.Body("")))
            Assert.Equal(dev.Id.ToString(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_message_limit_lowers_the_body_limit_of_grpc_routes()
    {
        using var host = new TestHost();
        host.WriteConfig(maxRequestBodyBytes: 1024 * 1024, maxMessageBytes: 64 * 1024, maxConcurrentStreams: 8);
        var port = TestHost.FreeTcpPort();
        var runner = host.StartRunner();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());
        using var client = TestHost.Client(port);

        var fits = new byte[60 * 1024];
        using (var response = await client.PostAsync("/echo", new ByteArrayContent(fits)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(fits.Length, (await response.Content.ReadAsByteArrayAsync()).Length);
        }
        using (var response = await client.PostAsync("/echo", new ByteArrayContent(new byte[100 * 1024])))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        // More concurrent calls than streams per connection: the client opens more connections.
        var calls = Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await client.PostAsync("/slow", TestHost.Body("200"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        await Task.WhenAll(calls);
    }
}
