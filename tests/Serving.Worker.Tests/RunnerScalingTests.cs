using System.Net;
using System.Text;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Tests.Infrastructure;
using Serving.Worker.Transport;

namespace Serving.Worker.Tests;

/// <summary>
/// Lifeline <c>runner-workers NAME COUNT</c>: the supervisor scaled a runner, and an API worker's
/// connections to it follow. The client tests run a real runner worker behind a <see cref="RunnerProxy"/>,
/// which counts the connections and can hold replies back to keep calls in flight.
/// </summary>
public class RunnerScalingTests
{
    private static readonly WorkerTuning Tuning = new();

    [Fact]
    public void The_lifeline_word_sets_the_connection_slots_of_that_runner_only()
    {
        using var lifeline = new Lifeline("api-1", ["echo", "other"]);
        using var echo = Client("echo", "/nonexistent/echo.sock", workers: 1, lifeline);
        using var other = Client("other", "/nonexistent/other.sock", workers: 1, lifeline);
        Assert.Equal(1, echo.ConnectionSlots);

        lifeline.OnLine("runner-workers echo 3");
        Assert.Equal(Tuning.ConnectionsTo(3), echo.ConnectionSlots);
        Assert.True(echo.ConnectionSlots > 1);
        Assert.Equal(1, other.ConnectionSlots);

        // More workers than the cap allows connections for: the cap (and no overflow on the way).
        lifeline.OnLine($"runner-workers echo {int.MaxValue}");
        Assert.Equal(Tuning.MaxConnectionsPerRunner, echo.ConnectionSlots);
        lifeline.OnLine("runner-workers echo 1");
        Assert.Equal(1, echo.ConnectionSlots);

        // Bad words change nothing.
        foreach (var bad in new[]
        {
            "runner-workers nosuch 3", "runner-workers echo 0", "runner-workers echo -2", "runner-workers echo +2",
            "runner-workers echo 2.5", "runner-workers echo three", "runner-workers echo 99999999999", "runner-workers echo",
            "runner-workers echo 2 3", "runner-workers",
        })
        {
            lifeline.OnLine(bad);
            Assert.Equal(1, echo.ConnectionSlots);
            Assert.Equal(1, other.ConnectionSlots);
        }
    }

    [Fact]
    public void A_word_that_came_before_the_client_was_made_overrides_host_json()
    {
        using var lifeline = new Lifeline("api-1", ["echo"]);
        lifeline.OnLine("runner-workers echo 2");
        using var echo = Client("echo", "/nonexistent/echo.sock", workers: 1, lifeline);
        Assert.Equal(Tuning.ConnectionsTo(2), echo.ConnectionSlots);
    }

    [Fact]
    public async Task After_growing_calls_use_the_new_connections()
    {
        using var host = new TestHost();
        using var proxy = await StartRunnerBehindProxyAsync(host);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client("echo", proxy.Path, workers: 1, lifeline);

        for (var i = 0; i < 4; i++)
            Assert.Equal($"before {i}", await EchoAsync(client, $"before {i}"));
        Assert.Equal(1, proxy.Accepted);

        lifeline.OnLine("runner-workers echo 3");
        var slots = client.ConnectionSlots;
        Assert.Equal(Tuning.ConnectionsTo(3), slots);
        // Round-robin: two rounds touch every slot; each opens its connection once, the first one is kept.
        for (var i = 0; i < 2 * slots; i++)
            Assert.Equal($"grown {i}", await EchoAsync(client, $"grown {i}"));
        Assert.Equal(slots, proxy.Accepted);
        Assert.Equal(0, proxy.ClosedByClient);

        // A count giving the same number of slots (both at the cap) changes nothing: no connection opened or closed.
        lifeline.OnLine("runner-workers echo 8");
        var capped = client.ConnectionSlots;
        Assert.Equal(Tuning.ConnectionsTo(8), capped);
        for (var i = 0; i < 2 * capped; i++)
            Assert.Equal($"capped {i}", await EchoAsync(client, $"capped {i}"));
        Assert.Equal(capped, proxy.Accepted);
        lifeline.OnLine("runner-workers echo 9");
        Assert.Equal(capped, client.ConnectionSlots);
        for (var i = 0; i < 2 * capped; i++)
            Assert.Equal($"again {i}", await EchoAsync(client, $"again {i}"));
        Assert.Equal(capped, proxy.Accepted);
        Assert.Equal(0, proxy.ClosedByClient);
    }

    [Fact]
    public async Task A_shrink_loses_no_call_in_flight_and_closes_the_surplus_connections_after_their_answers()
    {
        using var host = new TestHost();
        using var proxy = await StartRunnerBehindProxyAsync(host);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client("echo", proxy.Path, workers: 3, lifeline);
        var slots = client.ConnectionSlots;
        Assert.Equal(Tuning.ConnectionsTo(3), slots);
        for (var i = 0; i < 2 * slots; i++)
            await EchoAsync(client, "warm");
        Assert.Equal(slots, proxy.Accepted);

        // Two calls on every connection, their answers held back by the proxy: in flight until released.
        proxy.Hold();
        var inputs = Enumerable.Range(0, 2 * slots).Select(i => $"in flight {i}").ToArray();
        var calls = inputs.Select(input => EchoAsync(client, input)).ToArray();

        lifeline.OnLine("runner-workers echo 1");
        Assert.Equal(1, client.ConnectionSlots);
        var after = EchoAsync(client, "after the shrink");
        Assert.DoesNotContain(calls, c => c.IsCompleted);
        Assert.Equal(0, proxy.ClosedByClient);

        proxy.Release();
        Assert.Equal(inputs, await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("after the shrink", await after.WaitAsync(TimeSpan.FromSeconds(10)));
        await TestHost.Eventually(() => Task.FromResult(proxy.ClosedByClient == slots - 1), TimeSpan.FromSeconds(10),
            $"the {slots - 1} surplus connections closed once their calls were answered");

        // The connection kept goes on serving; no new one is opened.
        for (var i = 0; i < 4; i++)
            Assert.Equal($"one {i}", await EchoAsync(client, $"one {i}"));
        Assert.Equal(slots, proxy.Accepted);
        Assert.Equal(slots - 1, proxy.ClosedByClient);
    }

    [Fact]
    public async Task Calls_on_retired_connections_still_time_out()
    {
        using var host = new TestHost();
        using var proxy = await StartRunnerBehindProxyAsync(host);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client("echo", proxy.Path, workers: 3, lifeline);
        var slots = client.ConnectionSlots;
        for (var i = 0; i < 2 * slots; i++)
            await EchoAsync(client, "warm");

        proxy.Hold();
        var calls = Enumerable.Range(0, 2 * slots).Select(_ => CallAsync(client, "late", timeoutMs: 300)).ToArray();
        lifeline.OnLine("runner-workers echo 1");

        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(replies, r => Assert.Equal(ItemStatus.TimedOut, r));
        // Answered (timed out), the retired connections have nothing left in flight: they close.
        await TestHost.Eventually(() => Task.FromResult(proxy.ClosedByClient == slots - 1), TimeSpan.FromSeconds(10),
            "the surplus connections closed");
        proxy.Release();
    }

    [Fact]
    public async Task A_runner_declared_down_fails_the_calls_on_retired_connections_too()
    {
        using var host = new TestHost();
        using var proxy = await StartRunnerBehindProxyAsync(host);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client("echo", proxy.Path, workers: 3, lifeline);
        var slots = client.ConnectionSlots;
        for (var i = 0; i < 2 * slots; i++)
            await EchoAsync(client, "warm");

        proxy.Hold();
        var calls = Enumerable.Range(0, 2 * slots).Select(_ => CallAsync(client, "stuck", timeoutMs: 0)).ToArray();
        lifeline.OnLine("runner-workers echo 1");
        lifeline.OnLine("runner-down echo 1 restarting");

        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(replies, r => Assert.Equal(ItemStatus.Unreachable, r));
        await TestHost.Eventually(() => Task.FromResult(proxy.ClosedByClient == slots), TimeSpan.FromSeconds(10),
            "every connection closed");
        proxy.Release();
    }

    [Fact]
    public async Task An_api_worker_ignores_bad_runner_workers_lines_with_a_warning_and_takes_good_ones()
    {
        using var host = new TestHost();
        host.WriteConfig();
        var (_, api, port) = await host.StartRunnerAndApiAsync();
        using var client = TestHost.Client(port);

        foreach (var (line, why) in new[]
        {
            ("runner-workers nosuch 3", "no runner named 'nosuch'"),
            ("runner-workers test 0", "bad worker count"),
            ("runner-workers test -2", "bad worker count"),
            ("runner-workers test three", "bad worker count"),
            ("runner-workers test 99999999999", "bad worker count"),
        })
        {
            api.Send(line);
            await api.WaitForLineAsync(l => l == $"[err] warn: api-1: ignoring lifeline command '{line}': {why}", TimeSpan.FromSeconds(5), why);
        }
        api.Send("runner-workers test");
        await api.WaitForLineAsync(l => l == "[err] warn: api-1: ignoring unknown lifeline command 'runner-workers test'",
            TimeSpan.FromSeconds(5), "a line without a count");

        // Lines are read in order: once the word after it was answered, the good line was taken, silently.
        api.Send("runner-workers test 3");
        api.Send("runner-workers nosuch 1");
        await api.WaitForLineAsync(l => l.Contains("'runner-workers nosuch 1'"), TimeSpan.FromSeconds(5), "the word after the good one");
        Assert.DoesNotContain(api.Lines, l => l.Contains("'runner-workers test 3'"));

        for (var i = 0; i < 2 * Tuning.ConnectionsTo(3); i++)
        {
            using var response = await client.PostAsync("/upper", TestHost.Body($"call {i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"CALL {i}", await response.Content.ReadAsStringAsync());
        }
    }

    private static async Task<RunnerProxy> StartRunnerBehindProxyAsync(TestHost host)
    {
        host.WriteConfig(requestTimeoutSeconds: 30);
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();
        return new RunnerProxy(Path.Combine(host.Directory, "proxy.sock"), host.SocketPath);
    }

    [Fact]
    public async Task A_runner_up_heard_while_the_client_is_made_is_never_lost()
    {
        // A worker's start: the supervisor says its runners are down (still starting), then up, on the lifeline's
        // thread, while the worker makes its clients. Whatever the interleaving, the last word wins.
        for (var i = 0; i < 2000; i++)
        {
            using var lifeline = new Lifeline("api-1", ["echo"]);
            lifeline.OnLine("runner-down echo 1 starting");
            using var go = new ManualResetEventSlim();
            var up = Task.Run(() =>
            {
                go.Wait();
                // Words keep coming while the client is made; the last one is "up".
                for (var k = 0; k < 20; k++)
                {
                    lifeline.OnLine("runner-up echo");
                    lifeline.OnLine("runner-down echo 1 starting");
                }
                lifeline.OnLine("runner-up echo");
            });
            go.Set();
            using var echo = Client("echo", "/nonexistent/echo.sock", workers: 1, lifeline);
            await up;
            Assert.True(echo.Unavailable is null, $"round {i}: the runner stayed down after runner-up ({echo.Unavailable?.Detail})");
        }
    }

    private static RunnerClient Client(string name, string path, int workers, Lifeline lifeline) =>
        new(name, new RunnerEndpointConfig { Transport = "Uds", Address = path, TransportKind = RunnerTransport.Uds }, workers,
            secret: null, TimeSpan.FromSeconds(30), maxReply: 1 << 20, Tuning, lifeline);

    /// <summary>Calls the test runner's echo method; fails the test unless it answers Ok.</summary>
    private static async Task<string> EchoAsync(RunnerClient client, string text)
    {
        var reply = await client.CallAsync(Header(timeoutMs: 0), Encoding.UTF8.GetBytes(text), CancellationToken.None);
        try
        {
            Assert.True(reply.Status == ItemStatus.Ok, $"{reply.Status}: {reply.Message}");
            return Encoding.UTF8.GetString(reply.Output.Span);
        }
        finally
        {
            reply.Release();
        }
    }

    private static async Task<ItemStatus> CallAsync(RunnerClient client, string text, uint timeoutMs)
    {
        var reply = await client.CallAsync(Header(timeoutMs), Encoding.UTF8.GetBytes(text), CancellationToken.None);
        reply.Release();
        return reply.Status;
    }

    private static CallHeader Header(uint timeoutMs) => new(-1, "echo"u8.ToArray(), timeoutMs, 0, "scaling-test");
}
