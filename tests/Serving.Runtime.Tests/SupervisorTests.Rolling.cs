using System.Text.Json;
using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>Restarts and scaling of a live host: each new process ready before the one it replaces drains.</summary>
public sealed partial class SupervisorTests
{
    [Fact]
    public async Task A_restart_starts_the_successor_first_and_drains_the_old_process_only_once_it_is_ready()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("classifier-1").Single();
        _launcher.AutoReady = s => s.Name != "classifier-1";
        var restart = host.RestartWorkerAsync("classifier-1", TimeSpan.FromSeconds(5));
        await Poll.Until(() => _launcher.Live("classifier-1").Length == 2, "the successor to start");
        var successor = _launcher.Live("classifier-1").Single(p => p != old);
        // Not ready yet: the old process serves on, untold, and the worker is still Running under it.
        Assert.DoesNotContain(old.Received, l => l.StartsWith("stop", StringComparison.Ordinal));
        var during = host.Snapshot().Workers.Single(w => w.Name == "classifier-1");
        Assert.Equal((WorkerState.Running, old.Pid, 0), (during.State, during.Pid, during.Restarts));
        Assert.Equal(HostState.Running, host.Snapshot().State);
        successor.Ready();
        await restart;
        Assert.Contains(old.Received, l => l.StartsWith("stop ", StringComparison.Ordinal));
        Assert.True(old.Exited.IsCompleted);
        Assert.False(successor.Exited.IsCompleted);
        var after = host.Snapshot().Workers.Single(w => w.Name == "classifier-1");
        Assert.Equal((WorkerState.Running, successor.Pid, 1), (after.State, after.Pid, after.Restarts));
        string[] Lines() => host.Workers.Single(w => w.Name == "classifier-1").RecentLines();
        Assert.Contains(Lines(), l => l.Contains($"successor (pid {successor.Pid}) is ready and serving"));
        await Poll.Until(() => Lines().Any(l => l.Contains($"pid {old.Pid} drained and exited (code 0)")), "the old process's exit to be noted");
    }

    [Fact]
    public async Task A_successor_that_exits_before_it_is_ready_leaves_the_old_process_serving()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("api-1").Single();
        _launcher.AutoReady = s => s.Name != "api-1";
        _launcher.OnStart = p => { if (p.Spec.Name == "api-1") { p.Print("cannot load the model"); p.Exit(3); } };
        var e = await Assert.ThrowsAsync<ServingException>(() => host.RestartWorkerAsync("api-1", TimeSpan.FromSeconds(5)));
        Assert.Equal(ErrorIds.WorkerNotRestartable, e.ErrorId);
        Assert.Contains("exited with code 3 before it was ready", e.Message);
        Assert.Contains($"The running process (pid {old.Pid}) keeps serving", e.Message);
        Assert.Contains("cannot load the model", e.Message);
        Assert.DoesNotContain(old.Received, l => l.StartsWith("stop", StringComparison.Ordinal));
        var info = host.Snapshot();
        Assert.Equal(HostState.Running, info.State);
        Assert.Equal((WorkerState.Running, old.Pid, 0), info.Workers.Single(w => w.Name == "api-1") is var w ? (w.State, w.Pid, w.Restarts) : default);
    }

    [Fact]
    public async Task A_successor_not_ready_within_the_start_timeout_is_killed_and_the_old_process_keeps_serving()
    {
        // The start timeout bounds the first start too: long enough for that on a busy machine.
        var host = NewHost(startTimeout: TimeSpan.FromSeconds(1));
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("echo-1").Single();
        _launcher.AutoReady = s => s.Name != "echo-1";
        var e = await Assert.ThrowsAsync<ServingException>(() => host.RestartWorkerAsync("echo-1", TimeSpan.FromSeconds(5)));
        Assert.Contains("did not report ready within 1 s and was killed", e.Message);
        var successor = _launcher.Started.Last(p => p.Spec.Name == "echo-1");
        Assert.True(successor.Killed);
        Assert.False(old.Exited.IsCompleted);
        Assert.Equal(old.Pid, host.Snapshot().Workers.Single(w => w.Name == "echo-1").Pid);
    }

    [Fact]
    public async Task When_the_old_process_dies_while_its_successor_starts_the_successor_takes_its_place_without_a_respawn()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("echo-2").Single();
        _launcher.AutoReady = s => s.Name != "echo-2";
        var restart = host.RestartWorkerAsync("echo-2", TimeSpan.FromSeconds(5));
        await Poll.Until(() => _launcher.Live("echo-2").Length == 2, "the successor to start");
        var successor = _launcher.Live("echo-2").Single(p => p != old);
        old.Exit(139);
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-2").Pid == successor.Pid, "the successor to take over");
        Assert.Equal(WorkerState.Starting, host.Snapshot().Workers.Single(w => w.Name == "echo-2").State);
        successor.Ready();
        await restart;
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-2").State == WorkerState.Running, "the successor to run");
        Assert.Equal(HostState.Running, host.Snapshot().State);
        Assert.Equal(3, _launcher.Started.Count(p => p.Spec.Name.StartsWith("echo-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_overlap_a_restart_drains_first_and_starts_again_after()
    {
        var host = NewHost(overlap: false);
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("classifier-1").Single();
        var startedBeforeStop = false;
        _launcher.OnStart = p => startedBeforeStop |= p.Spec.Name == "classifier-1" && !old.Exited.IsCompleted;
        await host.RestartWorkerAsync("classifier-1", TimeSpan.FromSeconds(5));
        Assert.False(startedBeforeStop);
        Assert.NotSame(old, _launcher.Live("classifier-1").Single());
        Assert.Equal(1, host.Snapshot().Workers.Single(w => w.Name == "classifier-1").Restarts);
    }

    [Fact]
    public async Task The_rolling_restart_replaces_every_worker_one_at_a_time_runners_first_each_successor_ready_before_its_old_process_stops()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var originals = _launcher.Started.ToArray();
        // Each successor reports ready only when the test says, so the order of events can be checked.
        _launcher.AutoReady = _ => false;
        var readyOrder = new List<string>();
        var restart = host.RestartAsync(null, TimeSpan.FromSeconds(5));
        for (var i = 0; i < originals.Length; i++)
        {
            await Poll.Until(() => _launcher.Started.Count == originals.Length + i + 1, $"successor {i + 1} to start");
            // One at a time: nothing else is starting, and every original not yet replaced still serves.
            var successor = _launcher.Started.Last();
            Assert.Equal(originals.Length - i, originals.Count(o => !o.Exited.IsCompleted));
            Assert.DoesNotContain(originals.Single(o => o.Spec.Name == successor.Spec.Name).Received, l => l.StartsWith("stop", StringComparison.Ordinal));
            readyOrder.Add(successor.Spec.Name);
            successor.Ready();
        }
        await restart;
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1", "api-2" }, readyOrder);
        Assert.All(originals, o => Assert.True(o.Exited.IsCompleted));
        var info = host.Snapshot();
        Assert.Equal(HostState.Running, info.State);
        Assert.All(info.Workers, w => Assert.Equal((WorkerState.Running, 1), (w.State, w.Restarts)));
    }

    [Fact]
    public async Task A_rolling_restart_of_one_runner_touches_only_its_workers_and_an_unknown_runner_is_refused_before_anything_starts()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var before = _launcher.Started.Count;
        await host.RestartAsync("echo", TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { "echo-1", "echo-2" }, _launcher.Started.Skip(before).Select(p => p.Spec.Name));
        var e = await Assert.ThrowsAsync<ServingException>(() => host.RestartAsync("nope", TimeSpan.FromSeconds(5)));
        Assert.Equal(ErrorIds.WorkerNotRestartable, e.ErrorId);
        Assert.Contains("has no runner 'nope'. Its runners: echo, classifier.", e.Message);
        Assert.Equal(before + 2, _launcher.Started.Count);
    }

    [Fact]
    public async Task A_restart_starts_a_worker_that_was_given_up_on_again()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        _launcher.AutoReady = s => s.Name != "classifier-1";
        for (var i = 0; i < 3; i++)
        {
            var live = _launcher.Live("classifier-1");
            await Poll.Until(() => _launcher.Live("classifier-1").Length == 1, "a classifier process");
            _launcher.Live("classifier-1").Single().Exit(1);
            if (i < 2) await Poll.Until(() => _launcher.Live("classifier-1").Length == 1, "the respawn");
        }
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "classifier-1").State == WorkerState.Failed, "the worker to be given up on");
        _launcher.AutoReady = _ => true;
        await host.RestartWorkerAsync("classifier-1", TimeSpan.FromSeconds(5));
        Assert.Equal(WorkerState.Running, host.Snapshot().Workers.Single(w => w.Name == "classifier-1").State);
        Assert.Equal(HostState.Running, host.Snapshot().State);
    }

    [Fact]
    public async Task A_stop_during_a_restart_stops_the_successor_too()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        _launcher.AutoReady = s => s.Name != "api-2";
        var restart = host.RestartWorkerAsync("api-2", TimeSpan.FromSeconds(5));
        await Poll.Until(() => _launcher.Live("api-2").Length == 2, "the successor to start");
        await host.StopAsync(TimeSpan.FromSeconds(2), force: false);
        var e = await Assert.ThrowsAsync<ServingException>(() => restart);
        Assert.Contains("is stopping", e.Message);
        Assert.All(_launcher.Started, p => Assert.True(p.Exited.IsCompleted, $"{p.Spec.Name} (pid {p.Pid}) still runs"));
        Assert.Equal(HostState.Stopped, host.State);
    }

    [Fact]
    public async Task Scaling_the_api_workers_up_starts_new_ones_ready_and_down_drains_and_removes_the_highest()
    {
        var host = NewHost();
        var changes = new List<WorkerInfo>();
        host.WorkerChanged += w => { lock (changes) changes.Add(w); };
        await host.StartAsync(null, CancellationToken.None);
        await host.ScaleAsync(4, null, TimeSpan.FromSeconds(5));
        var up = host.Snapshot();
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1", "api-2", "api-3", "api-4" }, up.Workers.Select(w => w.Name));
        Assert.All(up.Workers, w => Assert.Equal(WorkerState.Running, w.State));
        Assert.Equal(HostState.Running, up.State);
        var api3 = _launcher.Live("api-3").Single();
        Assert.Contains("--index", api3.Spec.Arguments);
        Assert.Equal("3", api3.Spec.Environment["SERVING_WORKER_INDEX"]);

        await host.ScaleAsync(1, null, TimeSpan.FromSeconds(5));
        var down = host.Snapshot();
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1" }, down.Workers.Select(w => w.Name));
        Assert.Equal(HostState.Running, down.State);
        Assert.True(api3.Exited.IsCompleted);
        Assert.Contains(api3.Received, l => l.StartsWith("stop ", StringComparison.Ordinal));
        // Several removed at once: each stops accepting first, then drains in its turn; the one kept is not told.
        var api4 = _launcher.Started.Single(p => p.Spec.Name == "api-4");
        Assert.Equal("stop-accepting", api4.Received.First(l => l.StartsWith("stop", StringComparison.Ordinal)));
        Assert.DoesNotContain("stop-accepting", _launcher.Live("api-1").Single().Received);
        // Events are raised after the supervisor lets go of its lock, possibly by another thread after ScaleAsync returns.
        await Poll.Until(() => { lock (changes) return changes.Any(w => w.Name == "api-2" && w.State == WorkerState.Stopped); }, "api-2 Stopped raised");
    }

    [Fact]
    public async Task Scaling_a_runner_tells_the_api_workers_its_new_count_and_writes_it_to_host_json()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var api = _launcher.Live("api-1").Single();
        var classifier = _launcher.Live("classifier-1").Single();
        classifier.Print("@@serving stats {\"calls\":7,\"batchable\":true,\"batches\":2,\"items\":7}");
        await host.ScaleAsync(null, new Dictionary<string, int> { ["classifier"] = 3 }, TimeSpan.FromSeconds(5));
        Assert.Equal(3, host.Snapshot().Runners.Single(r => r.Name == "classifier").Workers);
        Assert.Contains("runner-workers classifier 3", api.Received);
        // A runner worker started later shares the runner's socket: same fd, same endpoint.
        var third = _launcher.Live("classifier-3").Single();
        Assert.Same(classifier.Spec.InheritedListener, third.Spec.InheritedListener);
        Assert.Equal(3, RunnerWorkersInHostJson(api, "classifier"));

        await host.ScaleAsync(null, new Dictionary<string, int> { ["classifier"] = 1 }, TimeSpan.FromSeconds(5));
        Assert.Contains("runner-workers classifier 1", api.Received);
        Assert.Equal(1, RunnerWorkersInHostJson(api, "classifier"));
        var row = host.Snapshot().Runners.Single(r => r.Name == "classifier");
        Assert.Equal((1, 7L), (row.Workers, row.Calls));
        // A scale-down removed classifier-3 and classifier-2; the counters classifier-1 reported stay.
        await host.ScaleAsync(null, new Dictionary<string, int> { ["classifier"] = 2 }, TimeSpan.FromSeconds(5));
        _launcher.Live("classifier-2").Single().Print("@@serving stats {\"calls\":5}");
        await host.ScaleAsync(null, new Dictionary<string, int> { ["classifier"] = 1 }, TimeSpan.FromSeconds(5));
        Assert.Equal(12L, host.Snapshot().Runners.Single(r => r.Name == "classifier").Calls);
    }

    private static int RunnerWorkersInHostJson(FakeProcess worker, string runner)
    {
        var args = worker.Spec.Arguments.ToList();
        var path = args[args.IndexOf("--config") + 1];
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("service").GetProperty("runners").EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == runner).GetProperty("workers").GetInt32();
    }

    [Fact]
    public async Task A_new_worker_that_fails_to_start_is_removed_again_and_the_host_keeps_its_workers()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var api = _launcher.Live("api-1").Single();
        _launcher.OnStart = p => { if (p.Spec.Name == "echo-3") p.Exit(3); };
        _launcher.AutoReady = s => s.Name != "echo-3";
        var e = await Assert.ThrowsAsync<ServingException>(() =>
            host.ScaleAsync(null, new Dictionary<string, int> { ["echo"] = 4 }, TimeSpan.FromSeconds(5)));
        Assert.Equal(ErrorIds.HostNotScalable, e.ErrorId);
        Assert.Contains("new worker echo-3 did not become ready", e.Message);
        Assert.Empty(_launcher.Live("echo-4"));
        var info = host.Snapshot();
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1", "api-2" }, info.Workers.Select(w => w.Name));
        Assert.Equal(HostState.Running, info.State);
        Assert.DoesNotContain(api.Received, l => l.StartsWith("runner-workers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scale_the_host_cannot_take_is_refused_before_anything_starts()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var before = _launcher.Started.Count;
        var unknown = await Assert.ThrowsAsync<ServingException>(() =>
            host.ScaleAsync(3, new Dictionary<string, int> { ["nope"] = 2 }, TimeSpan.FromSeconds(5)));
        Assert.Equal(ErrorIds.HostNotScalable, unknown.ErrorId);
        Assert.Contains("has no runner 'nope'", unknown.Message);
        var zero = await Assert.ThrowsAsync<ServingException>(() => host.ScaleAsync(0, null, TimeSpan.FromSeconds(5)));
        Assert.Contains("-ApiWorkers must be between 1 and 1024; got 0", zero.Message);
        Assert.Equal(before, _launcher.Started.Count);

        var dev = NewHost(development: true);
        await dev.StartAsync(null, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ServingException>(() => dev.ScaleAsync(2, null, TimeSpan.FromSeconds(5)));
        Assert.Contains("runs in development mode", refused.Message);
    }

    [Fact]
    public async Task Development_mode_restarts_its_one_process_successor_first()
    {
        var host = NewHost(development: true);
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("dev-1").Single();
        await host.RestartAsync(null, TimeSpan.FromSeconds(5));
        var fresh = _launcher.Live("dev-1").Single();
        Assert.NotSame(old, fresh);
        Assert.Same(old.Spec.InheritedListener, fresh.Spec.InheritedListener);
        Assert.True(old.Exited.IsCompleted);
        Assert.Equal(HostState.Running, host.Snapshot().State);
    }

    [Fact]
    public async Task A_worker_that_exits_before_the_launcher_returns_fails_the_start_at_once()
    {
        // A worker can die before Start returns its process (a crash at load): its exit must still be seen.
        _launcher.AutoReady = s => s.Name != "echo-2";
        _launcher.OnStart = p => { if (p.Spec.Name == "echo-2") p.Exit(139); };
        var host = NewHost(startTimeout: TimeSpan.FromSeconds(30));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.WorkerStartFailed, e.ErrorId);
        Assert.Contains("Worker echo-2 exited with code 139", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_respawned_worker_that_exits_before_the_launcher_returns_is_respawned_again()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var exits = 0;
        _launcher.OnStart = p => { if (p.Spec.Name == "echo-1" && Interlocked.Increment(ref exits) == 1) p.Exit(139); };
        _launcher.Live("echo-1").Single().Exit(1);
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-1") is { State: WorkerState.Running, Restarts: 2 },
            "echo-1 to be respawned twice (its first respawn died at once)");
    }
}
