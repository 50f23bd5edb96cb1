using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>The host's log: levels of workers' lines and the supervisor's notes, the kept ring, -LogLevel.</summary>
public sealed partial class SupervisorTests
{
    [Fact]
    public async Task Lines_of_every_worker_are_kept_in_arrival_order_with_their_levels_and_the_job_still_gets_them()
    {
        var host = NewHost();
        var raised = new System.Collections.Concurrent.ConcurrentQueue<WorkerLogEntry>();
        host.Log += raised.Enqueue;
        await host.StartAsync(null, CancellationToken.None);
        var echo = _launcher.Live("echo-1").Single();
        var api = _launcher.Live("api-2").Single();
        echo.Print("info: loaded");
        api.PrintError("fail: RunnerFailed request r1: boom");
        api.PrintError("    System.InvalidOperationException: boom");
        echo.PrintError("warn: slow");

        var kept = host.RecentLog.Read(0, out _).Where(e => e.Stream != "supervisor").ToArray();
        Assert.Equal(new[] { ("echo-1", LogLevel.Information, "loaded"), ("api-2", LogLevel.Error, "RunnerFailed request r1: boom"),
            ("api-2", LogLevel.Error, "    System.InvalidOperationException: boom"), ("echo-1", LogLevel.Warning, "slow") },
            kept.Select(e => (e.Worker, e.Level, e.Message)));
        // The notes of the start are kept as well, at Information.
        Assert.Contains(host.RecentLog.Read(0, out _), e => e.Stream == "supervisor" && e.Worker == "api-1" && e.Message.Contains("started") && e.Level == LogLevel.Information);
        // Event subscribers (a job's Receive-Job) get the same lines.
        await Poll.Until(() => raised.Count(e => e.Stream != "supervisor") == 4, "the Log event to carry every line");
    }

    [Fact]
    public async Task A_crash_is_noted_as_an_error_and_the_respawn_as_information()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        _launcher.Live("echo-2").Single().Exit(139);
        await Poll.Until(() => _launcher.Live("echo-2").Length == 1, "echo-2 to be respawned");
        var notes = host.RecentLog.Read(0, out _).Where(e => e.Worker == "echo-2" && e.Stream == "supervisor").ToArray();
        Assert.Contains(notes, e => e.Level == LogLevel.Error && e.Message.Contains("exited unexpectedly with code 139 (SIGSEGV)"));
        Assert.Contains(notes, e => e.Level == LogLevel.Information && e.Message.Contains("respawning in"));
    }

    [Fact]
    public async Task Below_the_host_log_level_nothing_is_kept_or_raised_but_the_recent_lines_of_a_worker_still_are()
    {
        var host = NewHost(logLevel: LogLevel.Warning);
        var raised = new System.Collections.Concurrent.ConcurrentQueue<WorkerLogEntry>();
        host.Log += raised.Enqueue;
        await host.StartAsync(null, CancellationToken.None);
        var echo = _launcher.Live("echo-1").Single();
        echo.Print("info: chatty");
        echo.PrintError("warn: careful");
        Assert.Equal(new[] { "careful" }, host.RecentLog.Read(0, out _).Select(e => e.Message));
        Assert.DoesNotContain(raised, e => e.Level < LogLevel.Warning);
        // What error messages quote about a worker keeps everything it said.
        Assert.Contains(host.Workers.Single(w => w.Name == "echo-1").RecentLines(), l => l == "info: chatty");
    }

    [Fact]
    public async Task The_kept_lines_are_bounded()
    {
        var host = NewHost(logCapacity: 5);
        await host.StartAsync(null, CancellationToken.None);
        var echo = _launcher.Live("echo-1").Single();
        for (var i = 1; i <= 20; i++) echo.Print($"info: line {i}");
        Assert.Equal(Enumerable.Range(16, 5).Select(i => $"line {i}"), host.RecentLog.Read(0, out _).Select(e => e.Message));
    }

    [Fact]
    public async Task Host_json_carries_the_log_format_and_level()
    {
        var host = NewHost(logLevel: LogLevel.Debug);
        await host.StartAsync(null, CancellationToken.None);
        var json = File.ReadAllText(Path.Combine(host.Plan.SocketDirectory, "host.json"));
        Assert.Contains("\"logFormat\": \"Text\"", json);
        Assert.Contains("\"logLevel\": \"Debug\"", json);
    }
}
