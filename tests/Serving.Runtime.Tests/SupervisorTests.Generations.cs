using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>Reloads: a whole new generation next to the serving one, switched to only once every new worker is ready.</summary>
public sealed partial class SupervisorTests
{
    private static bool OfGeneration(FakeProcess p, int generation) =>
        p.Spec.Arguments.Any(a => a.EndsWith(generation == 1 ? "/host.json" : $"/host-{generation}.json", StringComparison.Ordinal));

    [Fact]
    public async Task A_reload_starts_generation_2_next_to_1_and_switches_only_when_every_new_worker_is_ready()
    {
        var host = NewHost();
        var log = new List<string>();
        host.Log += e => { lock (log) log.Add(e.Message); };
        await host.StartAsync(null, CancellationToken.None);
        var first = _launcher.Started.ToArray();
        _launcher.AutoReady = _ => false;
        var reload = host.ReloadAsync(Replan(host, Service()), "test");

        // Runners first: the API workers of generation 2 start once its runners are ready.
        await Poll.Until(() => _launcher.Started.Count(p => OfGeneration(p, 2)) == 3, "generation 2's runners to start");
        Assert.DoesNotContain(_launcher.Started, p => OfGeneration(p, 2) && p.Spec.Role == WorkerRole.Api);
        var runners2 = _launcher.Started.Where(p => OfGeneration(p, 2)).ToArray();
        Assert.All(runners2, r => Assert.EndsWith(".g2.sock", r.Spec.Endpoint));
        Assert.All(runners2, r => Assert.NotSame(first.First(f => f.Spec.Name == r.Spec.Name).Spec.InheritedListener, r.Spec.InheritedListener));
        foreach (var r in runners2) r.Ready();
        await Poll.Until(() => _launcher.Started.Count(p => OfGeneration(p, 2)) == 5, "generation 2's API workers to start");
        var apis2 = _launcher.Started.Where(p => OfGeneration(p, 2) && p.Spec.Role == WorkerRole.Api).ToArray();
        // The same API socket: connections go to either generation's API workers meanwhile.
        Assert.All(apis2, a => Assert.Same(first.First(f => f.Spec.Name == a.Spec.Name).Spec.InheritedListener, a.Spec.InheritedListener));
        Assert.All(first, p => Assert.DoesNotContain(p.Received, l => l.StartsWith("stop", StringComparison.Ordinal)));
        Assert.Equal(1, host.Generation);
        apis2[0].Ready();
        Assert.All(first, p => Assert.DoesNotContain(p.Received, l => l.StartsWith("stop", StringComparison.Ordinal)));
        apis2[1].Ready();
        await reload;

        Assert.Equal(2, host.Generation);
        var info = host.Snapshot();
        Assert.Equal((2, HostState.Running), (info.Generation, info.State));
        Assert.All(info.Workers, w => Assert.Equal((2, WorkerState.Running, 0), (w.Generation, w.State, w.Restarts)));
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1", "api-2" }, info.Workers.Select(w => w.Name));
        Assert.All(first, p => Assert.True(p.Exited.IsCompleted));
        // The old API workers were told to drain before the old runners they still called.
        var lastApiStop = first.Where(p => p.Spec.Role == WorkerRole.Api).Max(p => p.StopSequence);
        Assert.True(first.Where(p => p.Spec.Role == WorkerRole.Runner).All(p => p.StopSequence > lastApiStop), "old runners stop after the old API workers");
        // At the switch every old API worker stops accepting at once (new connections belong to generation 2), and
        // drains later, in its turn; runners are not told to.
        Assert.All(first.Where(p => p.Spec.Role == WorkerRole.Api), p =>
        {
            var lines = p.Received.ToList();
            Assert.True(lines.IndexOf("stop-accepting") is >= 0 and var at && at < lines.FindIndex(l => l.StartsWith("stop ", StringComparison.Ordinal)),
                string.Join(" | ", lines));
        });
        Assert.DoesNotContain(first.Where(p => p.Spec.Role == WorkerRole.Runner), p => p.Received.Contains("stop-accepting"));
        Assert.False(File.Exists(first.First(p => p.Spec.Name == "echo-1").Spec.Endpoint), "generation 1's socket is gone");
        // Log events are raised after the lock is let go, possibly on another thread after ReloadAsync returns.
        await Poll.Until(() =>
        {
            lock (log)
                return log.Contains("reloader: generation 2 starting (test)") &&
                       log.Contains("reloader: generation 2 serving; generation 1 drains") &&
                       log.Contains("reloader: generation 1 stopped");
        }, "the reloader's three lines");
    }

    [Fact]
    public async Task The_new_generation_is_announced_once_every_old_API_worker_said_it_stopped_accepting()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var oldApi = _launcher.Started.Where(p => p.Spec.Role == WorkerRole.Api).ToArray();
        foreach (var api in oldApi) api.AcknowledgesStopAccepting = false;
        var reload = host.ReloadAsync(Replan(host, Service()), "test");

        await Poll.Until(() => oldApi.All(p => p.Received.Contains("stop-accepting")), "the old API workers told to stop accepting");
        // Until they closed their sockets a new connection may still reach the old code: generation 1 it is.
        Assert.Equal(1, host.Generation);
        Assert.Equal(1, host.Snapshot().Generation);
        oldApi[0].NotAccepting();
        await Task.Delay(100); // nothing to poll for: the point is that nothing changes yet
        Assert.Equal(1, host.Generation);
        Assert.DoesNotContain(oldApi, p => p.Received.Any(l => l.StartsWith("stop ", StringComparison.Ordinal)));
        oldApi[1].NotAccepting();
        await Poll.Until(() => host.Generation == 2, "generation 2 announced");
        await reload;
        Assert.Equal(2, host.Snapshot().Generation);
    }

    [Fact]
    public async Task A_generation_whose_runner_fails_is_taken_down_and_generation_1_never_stops_serving()
    {
        var host = NewHost();
        ServingException? reported = null;
        host.ReloadFailed += e => reported = e;
        await host.StartAsync(null, CancellationToken.None);
        var first = _launcher.Started.ToArray();
        _launcher.AutoReady = s => !(s.Name == "classifier-1" && s.Arguments.Any(a => a.EndsWith("host-2.json", StringComparison.Ordinal)));
        _launcher.OnStart = p =>
        {
            if (p.Spec.Name == "classifier-1" && OfGeneration(p, 2)) { p.Print("Runner type 'C' not found"); p.Exit(3); }
        };
        var e = await Assert.ThrowsAsync<ServingException>(() => host.ReloadAsync(Replan(host, Service()), "test"));
        Assert.Equal(ErrorIds.ReloadFailed, e.ErrorId);
        Assert.Contains("worker classifier-1 of generation 2 exited with code 3 before it was ready", e.Message);
        Assert.Contains("Runner type 'C' not found", e.Message);
        Assert.Contains("Generation 1 keeps serving", e.Message);
        Assert.Same(e, reported);
        Assert.Equal(1, host.Generation);
        Assert.All(first, p => Assert.False(p.Exited.IsCompleted));
        Assert.All(first, p => Assert.DoesNotContain(p.Received, l => l.StartsWith("stop", StringComparison.Ordinal)));
        // Nothing of generation 2 is left: no process, no API worker started after its runners failed.
        await Poll.Until(() => _launcher.Started.Where(p => OfGeneration(p, 2)).All(p => p.Exited.IsCompleted), "generation 2 to be gone");
        Assert.DoesNotContain(_launcher.Started, p => OfGeneration(p, 2) && p.Spec.Role == WorkerRole.Api);
        Assert.Equal(HostState.Running, host.Snapshot().State);
        Assert.All(host.Snapshot().Workers, w => Assert.Equal(1, w.Generation));

        // The next reload (the user fixed it) goes through.
        _launcher.AutoReady = _ => true;
        _launcher.OnStart = null;
        await host.ReloadAsync(Replan(host, Service()), "fixed");
        Assert.Equal(2, host.Generation);
    }

    [Fact]
    public async Task A_reload_may_change_the_worker_counts_new_slots_join_and_surplus_ones_leave()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var changes = new List<WorkerInfo>();
        host.WorkerChanged += w => { lock (changes) changes.Add(w); };
        await host.ReloadAsync(Replan(host, Service(echoWorkers: 1, classifierWorkers: 3), apiWorkers: 1), "counts");
        var info = host.Snapshot();
        Assert.Equal(new[] { "echo-1", "classifier-1", "classifier-2", "classifier-3", "api-1" }, info.Workers.Select(w => w.Name));
        Assert.All(info.Workers, w => Assert.Equal(WorkerState.Running, w.State));
        Assert.Equal(3, info.Runners.Single(r => r.Name == "classifier").Workers);
        Assert.Equal(HostState.Running, info.State);
        // Events are raised after the supervisor lets go of its lock, possibly by another thread after ReloadAsync returns.
        await Poll.Until(() =>
        {
            lock (changes)
                return changes.Any(w => w.Name == "echo-2" && w.State == WorkerState.Stopped) &&
                       changes.Any(w => w.Name == "api-2" && w.State == WorkerState.Stopped);
        }, "echo-2 and api-2 Stopped raised");
        Assert.Empty(_launcher.Live("echo-2"));
        Assert.Empty(_launcher.Live("api-2"));
    }

    [Fact]
    public async Task Development_mode_reloads_its_one_process_ready_first()
    {
        var host = NewHost(development: true);
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("dev-1").Single();
        await host.ReloadAsync(Replan(host, Service()), "dev");
        var fresh = _launcher.Live("dev-1").Single();
        Assert.NotSame(old, fresh);
        Assert.True(OfGeneration(fresh, 2));
        Assert.Same(old.Spec.InheritedListener, fresh.Spec.InheritedListener);
        Assert.Equal(2, host.Snapshot().Generation);
    }

    [Fact]
    public async Task A_reload_that_changes_the_mode_is_refused()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var dev = HostPlanner.Plan(host.Plan.Platform, Service(), new PlanOptions { Development = true, HostId = host.Plan.HostId, Port = 0 });
        var e = await Assert.ThrowsAsync<ServingException>(() => host.ReloadAsync(dev, "mode"));
        Assert.Contains("a reload keeps the host's mode, protocol and runner transport", e.Message);
        Assert.Equal(1, host.Generation);
    }

    [Fact]
    public async Task With_reload_options_a_changed_file_starts_one_generation_and_an_excluded_or_broken_change_starts_none()
    {
        var directory = Path.Combine(_temp, "service");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "demo.psd1"), "@{}");
        var replans = 0;
        var broken = false;
        ServingHost? host = null;
        var failures = new List<ServingException>();
        host = NewHost(serviceDirectory: directory, reload: new ReloadOptions
        {
            Replan = buildOutput =>
            {
                Interlocked.Increment(ref replans);
                buildOutput("  demo -> /svc/bin/demo.dll");
                buildOutput("");
                if (broken)
                {
                    buildOutput("/svc/Runner.cs(3,5): error CS0103: The name 'x' does not exist in the current context");
                    buildOutput("Build FAILED.");
                    throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData, "the manifest is not valid");
                }
                return Replan(host!, Service(directory: directory));
            },
            Exclude = ["scratch/"],
            Quiet = TimeSpan.FromMilliseconds(100),
        });
        host.ReloadFailed += e => { lock (failures) failures.Add(e); };
        var log = new List<string>();
        host.Log += e => { lock (log) log.Add(e.Message); };
        await host.StartAsync(null, CancellationToken.None);

        // A burst of writes: one generation.
        for (var i = 0; i < 5; i++) File.WriteAllText(Path.Combine(directory, "demo.psd1"), "@{ } # " + i);
        await Poll.Until(() => host.Generation == 2, "generation 2");
        Assert.Equal(1, replans);
        // What the replan's build wrote is the reloader's, trimmed; blank lines are dropped.
        await Poll.Until(() => { lock (log) return log.Any(l => l.StartsWith("reloader: build:", StringComparison.Ordinal)); }, "the build line raised");
        lock (log)
            Assert.Equal(["reloader: build: demo -> /svc/bin/demo.dll"], log.Where(l => l.StartsWith("reloader: build:", StringComparison.Ordinal)));

        // Excluded files: none.
        Directory.CreateDirectory(Path.Combine(directory, "scratch"));
        File.WriteAllText(Path.Combine(directory, "scratch", "notes.txt"), "x");
        File.WriteAllText(Path.Combine(directory, "demo.psd1.swp"), "x");
        await Task.Delay(400); // longer than the quiet period: a reload would have begun (nothing to poll for: the point is that nothing happens)
        Assert.Equal((1, 2), (replans, host.Generation));

        // A broken manifest: reported, generation 2 serves on.
        broken = true;
        File.WriteAllText(Path.Combine(directory, "demo.psd1"), "@{ broken");
        await Poll.Until(() => { lock (failures) return failures.Count == 1; }, "the failed reload to be reported");
        Assert.Contains("the service cannot be loaded: the manifest is not valid", failures[0].Message);
        Assert.Equal(ErrorIds.ReloadFailed, failures[0].ErrorId);
        Assert.Equal(2, host.Generation);
        Assert.Equal(HostState.Running, host.Snapshot().State);
        // Why it did not reload is an error in the host's log (Get-ServingLog -Level Warning finds it); the build's own lines keep their levels.
        var reloader = host.RecentLog.Read(0, out _).Where(e => e.Worker == ServingHost.ReloaderName).ToArray();
        Assert.Contains(reloader, e => e.Level == LogLevel.Error && e.Message.Contains("was not reloaded"));
        Assert.Contains(reloader, e => e.Level == LogLevel.Error && e.Message.EndsWith("error CS0103: The name 'x' does not exist in the current context", StringComparison.Ordinal));
        Assert.Contains(reloader, e => e.Level == LogLevel.Error && e.Message == "reloader: build: Build FAILED.");
        Assert.Contains(reloader, e => e.Level == LogLevel.Information && e.Message == "reloader: build: demo -> /svc/bin/demo.dll");
    }

    [Fact]
    public async Task A_service_directory_that_cannot_be_watched_fails_the_start_with_nothing_left_running()
    {
        var missing = Path.Combine(_temp, "no-such-service");
        var host = NewHost(serviceDirectory: missing, reload: new ReloadOptions { Replan = _ => throw new InvalidOperationException("not reached") });
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.ReloadFailed, e.ErrorId);
        Assert.Contains("-Reload cannot watch the service directory", e.Message);
        Assert.Empty(_launcher.Started);
        Assert.Equal(HostState.Failed, host.State);
    }

    [Fact]
    public async Task A_change_saved_while_the_host_starts_is_reloaded_once_it_is_ready()
    {
        var directory = Path.Combine(_temp, "starting-service");
        Directory.CreateDirectory(directory);
        ServingHost? host = null;
        host = NewHost(serviceDirectory: directory, reload: new ReloadOptions
        {
            Replan = _ => Replan(host!, Service(directory: directory)),
            Quiet = TimeSpan.FromMilliseconds(50),
        });
        _launcher.AutoReady = _ => false;
        var start = host.StartAsync(null, CancellationToken.None);
        await Poll.Until(() => _launcher.Started.Count == 5, "the workers to start");
        File.WriteAllText(Path.Combine(directory, "demo.psd1"), "@{}");
        await Task.Delay(300); // well past the quiet period: the reload is due, and must wait for the host to be ready
        Assert.Equal(5, _launcher.Started.Count);
        _launcher.AutoReady = _ => true;
        foreach (var p in _launcher.Started.ToArray()) p.Ready();
        await start;
        await Poll.Until(() => host.Generation == 2, "generation 2 after the start");
    }

    [Fact]
    public async Task A_reload_keeps_the_counts_set_by_scaling_and_says_so()
    {
        var host = NewHost();
        var log = new List<string>();
        host.Log += e => { lock (log) log.Add(e.Message); };
        await host.StartAsync(null, CancellationToken.None);
        await host.ScaleAsync(3, new Dictionary<string, int> { ["classifier"] = 2 }, TimeSpan.FromSeconds(5));
        await host.ReloadAsync(Replan(host, Service()), "a model file changed");
        var info = host.Snapshot();
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "classifier-2", "api-1", "api-2", "api-3" }, info.Workers.Select(w => w.Name));
        Assert.All(info.Workers, w => Assert.Equal((2, WorkerState.Running), (w.Generation, w.State)));
        const string Keeps = "reloader: generation 2 starting (a model file changed); it keeps " +
            "3 API workers (Set-ServingHost; the plan says 2), 2 'classifier' workers (Set-ServingHost; the manifest says 1)";
        await Poll.Until(() => { lock (log) return log.Contains(Keeps); }, "the reloader's line raised");
    }
}
