using System.Diagnostics;
using System.Net;
using System.Text;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>The runner protocol at its edges: frames split or too large, a broken hello, a runner killed mid-call.</summary>
public class RunnerProtocolTests(ServingFixture fixture) : IClassFixture<ServingFixture>
{
    [Fact]
    public async Task A_frame_arriving_in_pieces_is_read_whole()
    {
        using var wire = await RunnerWire.OpenUnixAsync(fixture.Host.SocketPath);
        var frame = RunnerWire.CallFrame(41, "upper", "in pieces"u8);
        // The header split inside its length, then the payload split in the middle of the method name.
        foreach (var (from, to) in new[] { (0, 2), (2, 15), (15, frame.Length) })
        {
            await wire.SendAsync(frame[from..to]);
            await Task.Delay(50); // each piece goes out on its own (a pause, not a synchronisation)
        }
        var (type, id, payload) = await wire.ReadFrameAsync();
        Assert.Equal((RunnerWire.Reply, 41u), (type, id));
        Assert.Equal((0, "IN PIECES"), ((int, string))RunnerWire.ParseReply(payload));
    }

    [Fact]
    public async Task A_frame_over_the_limit_closes_the_connection_with_the_reason_in_both_logs()
    {
        using var wire = await RunnerWire.OpenUnixAsync(fixture.Host.SocketPath);
        // Announce 16 MiB (the fixture's limit is 1 MiB + 1 KiB) but send only the header: the runner must not wait for it.
        var header = RunnerWire.Frame(RunnerWire.Call, 1, []);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, 16 * 1024 * 1024);
        await wire.SendAsync(header);
        var (type, _, payload) = await wire.ReadFrameAsync();
        Assert.Equal(RunnerWire.Error, type);
        Assert.Equal("a frame of 16777216 bytes exceeds the limit of 1049600 bytes (maxMessageBytes)", Encoding.UTF8.GetString(payload));
        Assert.True(await wire.ClosedAsync());
        await fixture.Runner.WaitForLineAsync(l => l.Contains("runner connection from") && l.Contains("closed: a frame of 16777216 bytes exceeds"),
            TimeSpan.FromSeconds(5), "the runner's log line with the reason");
    }

    [Theory]
    [InlineData("call first", "the first frame must be a hello")]
    [InlineData("version 2", "protocol version 2 is not supported (this runner speaks 1)")]
    [InlineData("unknown type", "unexpected frame type 42")]
    public async Task A_broken_conversation_is_refused_with_a_reason(string what, string reason)
    {
        using var wire = await RunnerWire.UnixAsync(fixture.Host.SocketPath);
        byte[] bytes = what switch
        {
            "call first" => RunnerWire.CallFrame(1, "upper", "a"u8),
            "version 2" => RunnerWire.HelloFrame(null, version: 2),
            _ => [.. RunnerWire.HelloFrame(null), .. RunnerWire.Frame(42, 0, [])],
        };
        await wire.SendAsync(bytes);
        var (type, _, payload) = await wire.ReadFrameAsync();
        if (what == "unknown type")
        {
            Assert.Equal(RunnerWire.Welcome, type);
            (type, _, payload) = await wire.ReadFrameAsync();
        }
        Assert.Equal(RunnerWire.Error, type);
        Assert.Equal(reason, Encoding.UTF8.GetString(payload));
        Assert.True(await wire.ClosedAsync());
    }

    [Fact]
    public async Task Calls_of_a_blocking_method_on_one_connection_run_side_by_side()
    {
        // Eight calls of a method that blocks its thread for 600 ms, all on the API worker's one
        // connection to the runner: run one after another they would take 4.8 s.
        var watch = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await fixture.Client.PostAsync("/block", TestHost.Body("600"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        await Task.WhenAll(calls);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.ElapsedMilliseconds} ms");

        // A ping is answered while a call blocks.
        using var wire = await RunnerWire.OpenUnixAsync(fixture.Host.SocketPath);
        await wire.CallAsync(1, "block", "1500");
        await wire.SendAsync(RunnerWire.Frame(RunnerWire.Ping, 2, []));
        var (type, id, _) = await wire.ReadFrameAsync();
        Assert.Equal((RunnerWire.Pong, 2u), (type, id));
    }

    [Fact]
    public async Task A_cancel_frame_reaches_the_runner_method()
    {
        using var wire = await RunnerWire.OpenUnixAsync(fixture.Host.SocketPath);
        await wire.CallAsync(5, "slow", "30000");
        await fixture.Runner.WaitForLineAsync(l => l.Contains("slow started 30000"), TimeSpan.FromSeconds(10), "the slow call to start");
        await wire.SendAsync(RunnerWire.Frame(RunnerWire.Cancel, 5, []));
        var (type, id, payload) = await wire.ReadFrameAsync();
        Assert.Equal((RunnerWire.Reply, 5u, 3), (type, id, (int)payload[0])); // Cancelled
        await fixture.Runner.WaitForLineAsync(l => l.Contains("slow cancelled after") && l.Contains("of 30000 ms"), TimeSpan.FromSeconds(5), "the method saw the cancel");
    }
}

/// <summary>A runner worker killed while calls wait on it: every caller is answered at once, nothing hangs.</summary>
public class RunnerKilledTests
{
    [Fact]
    public async Task Callers_of_a_runner_killed_mid_batch_get_503_at_once()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 30);
        var (runner, _, port) = await host.StartRunnerAndApiAsync();
        using var client = TestHost.Client(port);

        // Batches of two taking 400 ms: two calls run, the others wait in the queue.
        var calls = Enumerable.Range(0, 8).Select(i => client.PostAsync("/slowbatch", TestHost.Body("k" + i))).ToArray();
        await TestHost.Eventually(() => Task.FromResult(runner.Lines.Any(l => l.StartsWith("@@serving stats ") && l.Contains("\"calls\":8"))),
            TimeSpan.FromSeconds(10), "the eight calls received");
        var watch = Stopwatch.StartNew();
        runner.SendSignal(9);
        var responses = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"answered {watch.ElapsedMilliseconds} ms after the kill");
        // Those answered before the kill are 200; every other one is 503, none hangs.
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        foreach (var response in responses)
            response.Dispose();
    }

    [Fact]
    public async Task Callers_of_a_runner_killed_mid_call_get_503_at_once()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 30);
        var (runner, api, port) = await host.StartRunnerAndApiAsync();
        using var client = TestHost.Client(port);

        var calls = Enumerable.Range(0, 8).Select(_ => client.PostAsync("/slow", TestHost.Body("20000"))).ToArray();
        await TestHost.Eventually(() => Task.FromResult(runner.Lines.Count(l => l.Contains("slow started 20000")) == 8),
            TimeSpan.FromSeconds(10), "eight slow calls running");
        var watch = Stopwatch.StartNew();
        runner.SendSignal(9);
        var responses = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"answered {watch.ElapsedMilliseconds} ms after the kill");
        var body = await responses[0].Content.ReadAsStringAsync();
        Assert.Contains("\"errorId\":\"RunnerUnavailable\"", body);
        Assert.Contains("runner 'test' is unavailable", body);
        foreach (var response in responses)
            response.Dispose();
    }
}
