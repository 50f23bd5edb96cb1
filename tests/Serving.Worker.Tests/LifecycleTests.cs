using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Readiness transitions, the lifeline (stop / EOF), SIGTERM.</summary>
public class LifecycleTests
{
    [Fact]
    public async Task Readyz_follows_the_runner_and_calls_are_503_while_it_is_down()
    {
        using var host = new TestHost();
        host.WriteConfig();
        var port = TestHost.FreeTcpPort();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await api.WaitReadyAsync();
        using var client = TestHost.Client(port);

        // No runner yet.
        using (var response = await client.GetAsync("/readyz"))
        {
            var json = await ApiEndToEndTests.ProblemBody(response, HttpStatusCode.ServiceUnavailable, "NotReady");
            Assert.Equal(["test"], json.GetProperty("notReady").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("runners not ready: test", json.GetProperty("detail").GetString());
        }
        using (var response = await client.PostAsync("/echo", TestHost.Body("x")))
        {
            var json = await ApiEndToEndTests.ProblemBody(response, HttpStatusCode.ServiceUnavailable, "RunnerUnavailable");
            Assert.Equal("runner 'test' is unavailable", json.GetProperty("detail").GetString());
            // 5xx: one warning line with the request id, and the transport's reason for the operator.
            var requestId = json.GetProperty("requestId").GetString();
            await api.WaitForLineAsync(l => l.StartsWith($"[err] warn: RunnerUnavailable request {requestId}: runner 'test' is unavailable: "),
                TimeSpan.FromSeconds(5), "the warning line");
        }
        // Probes report a state: their 503s are not logged.
        Assert.DoesNotContain(api.Lines, l => l.Contains("NotReady"));

        // The runner comes up: ready.
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();
        await TestHost.Eventually(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "/readyz 200");
        using (var response = await client.PostAsync("/echo", TestHost.Body("hello")))
            Assert.Equal("hello", await response.Content.ReadAsStringAsync());

        // The runner goes away: not ready again, calls 503.
        runner.CloseStdin();
        Assert.Equal(0, await runner.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        await TestHost.Eventually(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10), "/readyz 503");
        using (var response = await client.PostAsync("/echo", TestHost.Body("x")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using (var response = await client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.False(json.GetProperty("runners").GetProperty("test").GetProperty("ready").GetBoolean());
        }
    }

    [Fact]
    public async Task Stop_drains_an_in_flight_request_then_exits_zero()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 30);
        var port = TestHost.FreeTcpPort();
        var runner = host.StartRunner();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());
        using var client = TestHost.Client(port);

        var inFlight = client.PostAsync("/slow", TestHost.Body("1500"));
        await runner.WaitForLineAsync(l => l.Contains("slow started 1500"), TimeSpan.FromSeconds(10), "the slow call to start");

        api.Send("stop 20");
        runner.Send("stop 20");
        await api.WaitForLineAsync(l => l == "@@serving stopping", TimeSpan.FromSeconds(5), "@@serving stopping (api)");
        await runner.WaitForLineAsync(l => l == "@@serving stopping", TimeSpan.FromSeconds(5), "@@serving stopping (runner)");

        using (var response = await inFlight)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("slept 1500", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, await api.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await runner.WaitForExitAsync(TimeSpan.FromSeconds(10)));

        // It no longer accepts connections.
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/livez"));
    }

    [Fact]
    public async Task Stop_gives_up_on_requests_that_outlast_the_drain_timeout()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 60);
        var port = TestHost.FreeTcpPort();
        var runner = host.StartRunner();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());
        using var client = TestHost.Client(port);

        var inFlight = client.PostAsync("/slow", TestHost.Body("30000"));
        await runner.WaitForLineAsync(l => l.Contains("slow started 30000"), TimeSpan.FromSeconds(10), "the slow call to start");
        var watch = Stopwatch.StartNew();
        runner.Send("stop 0.5");
        Assert.Equal(0, await runner.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");

        // The API worker reports the aborted call as a runner failure, not a hang.
        using var response = await inFlight;
        Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError, response.StatusCode.ToString());
    }

    [Fact]
    public async Task Closing_stdin_exits_within_a_second_without_draining()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 60);
        var port = TestHost.FreeTcpPort();
        var runner = host.StartRunner();
        var api = host.StartApi($"http://127.0.0.1:{port}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());
        using var client = TestHost.Client(port);

        // Even with a call in flight.
        var inFlight = client.PostAsync("/slow", TestHost.Body("30000"));
        await runner.WaitForLineAsync(l => l.Contains("slow started 30000"), TimeSpan.FromSeconds(10), "the slow call to start");

        var watch = Stopwatch.StartNew();
        runner.CloseStdin();
        api.CloseStdin();
        await runner.WaitForExitAsync(TimeSpan.FromSeconds(3));
        await api.WaitForExitAsync(TimeSpan.FromSeconds(3));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"took {watch.Elapsed}");
        Assert.DoesNotContain("@@serving stopping", runner.Lines);
        await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
    }

    [Fact]
    public async Task A_closed_stdin_at_startup_counts_as_eof()
    {
        using var host = new TestHost();
        host.WriteConfig();
        var runner = host.StartRunner();
        runner.CloseStdin();
        Assert.Equal(0, await runner.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(runner.Lines, l => l.Contains("stdin closed"));
    }

    [Fact]
    public async Task Sigterm_drains_like_stop()
    {
        using var host = new TestHost();
        host.WriteConfig();
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();
        runner.SendSignal(WorkerProcess.SIGTERM);
        Assert.Equal(0, await runner.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("@@serving stopping", runner.Lines);
        Assert.Contains(runner.Lines, l => l.Contains("SIGTERM"));
    }
}
