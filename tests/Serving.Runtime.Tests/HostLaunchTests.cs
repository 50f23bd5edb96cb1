using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>
/// Start-ServingHost's one path into the runtime: <see cref="HostLaunch.Prepare"/> checks everything before a
/// process starts, <see cref="HostLaunch.StartAsync"/> starts and registers the host, and leaves nothing
/// registered when the start fails.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HostLaunchTests : IDisposable
{
    private readonly string _temp = Path.Combine("/tmp", "hlt-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeLauncher _launcher = new();
    private readonly List<ServingHost> _hosts = new();
    private int _loads;

    public HostLaunchTests() => Directory.CreateDirectory(_temp);

    public void Dispose()
    {
        foreach (var h in _hosts) h.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    private HostRequest Request(bool reload = false, string[]? include = null, string[]? exclude = null, string? name = null) => new()
    {
        Name = name,
        LoadService = _ =>
        {
            Interlocked.Increment(ref _loads);
            return new ServiceDefinition { Name = "demo", Directory = _temp, Runners = Facts.Demo.Runners, Apis = Facts.Demo.Apis };
        },
        Platform = Facts.Info("Linux", temp: _temp, cpus: 2),
        PlanOptions = new PlanOptions { Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 1, Respawn = RespawnChoice.Never },
        Options = new HostOptions { StartTimeout = TimeSpan.FromSeconds(5), StopTimeout = TimeSpan.FromSeconds(5) },
        ReadinessProbe = (_, _) => Task.FromResult(true),
        Reload = reload,
        ReloadInclude = include,
        ReloadExclude = exclude,
        Launcher = _launcher,
    };

    [Fact]
    public void Prepare_plans_and_names_the_host_without_starting_anything()
    {
        var launch = HostLaunch.Prepare(Request(name: "launch-prepare"));
        Assert.Equal("launch-prepare", launch.Name);
        Assert.Equal(1, launch.Plan.ApiWorkers);
        Assert.Contains("1 API workers", launch.Summary);
        Assert.Contains("echo x1", launch.Summary);
        Assert.Empty(_launcher.Started);
        Assert.DoesNotContain(HostRegistry.All(), h => h.Name == "launch-prepare");
        Assert.Equal(1, _loads);
    }

    [Fact]
    public void Reload_patterns_without_reload_are_a_warning_and_a_malformed_one_is_refused_before_anything_starts()
    {
        var launch = HostLaunch.Prepare(Request(include: new[] { "*.dll" }));
        Assert.Contains(launch.Warnings, w => w.Contains("no effect without -Reload"));

        var error = Assert.Throws<ServingException>(() => HostLaunch.Prepare(Request(reload: true, exclude: new[] { "/" })));
        Assert.Equal(ErrorIds.InvalidPlanOption, error.ErrorId);
        Assert.Contains("'/'", error.Message);
        Assert.Empty(_launcher.Started);
    }

    [Fact]
    public async Task Start_attaches_before_the_first_worker_starts_and_registers_the_running_host()
    {
        _launcher.OnStart = p => p.Print("first line of " + p.Spec.Name);
        var launch = HostLaunch.Prepare(Request(name: "launch-start"));
        var firstLines = new List<string>();
        var startedWhenAttached = -1;
        var id = TestHostIds.Next();
        var host = await launch.StartAsync(id, h =>
        {
            startedWhenAttached = _launcher.Started.Count;
            h.Log += e => { lock (firstLines) firstLines.Add(e.Message); };
        }, null, CancellationToken.None);
        _hosts.Add(host);

        Assert.Equal(0, startedWhenAttached);
        Assert.Equal(HostState.Running, host.State);
        // The caller's id (Start-ServingHost gives its job's): one number for the host and its job.
        Assert.Equal(id, host.Id);
        Assert.Equal(id, host.Snapshot().Id);
        Assert.Contains(host, HostRegistry.All());
        // Raised after the supervisor lets go of its lock: perhaps by another thread after StartAsync returns.
        await Poll.Until(() => { lock (firstLines) return firstLines.Contains("first line of echo-1"); }, "the first line raised");
        // The host's own options: the launch's name, its probe, no reloading.
        Assert.Equal("launch-start", host.Name);
    }

    [Fact]
    public async Task A_start_that_fails_leaves_no_host_registered()
    {
        _launcher.OnStart = p => { if (p.Spec.Name == "classifier-1") p.Exit(3); };
        var launch = HostLaunch.Prepare(Request(name: "launch-fails"));
        ServingHost? attached = null;
        await Assert.ThrowsAsync<ServingException>(() => launch.StartAsync(TestHostIds.Next(), h => attached = h, null, CancellationToken.None));
        Assert.NotNull(attached);
        _hosts.Add(attached!);
        Assert.DoesNotContain(attached!, HostRegistry.All());
        // Every worker that started is gone again: none is left running behind a host nobody can see.
        Assert.All(_launcher.Started, p => Assert.True(p.Exited.IsCompleted, p.Spec.Name + " still runs"));
    }

    [Fact]
    public async Task A_reloading_host_plans_each_generation_from_the_service_read_again()
    {
        var launch = HostLaunch.Prepare(Request(reload: true, name: "launch-reload"));
        var host = await launch.StartAsync(TestHostIds.Next(), null, null, CancellationToken.None);
        _hosts.Add(host);
        Assert.Equal(1, _loads);

        var hostId = host.Plan.HostId;

        // A saved file: the watcher the launch set up reloads, and the next generation's plan reads the service again.
        await File.WriteAllTextAsync(Path.Combine(_temp, "model.bin"), "v2");
        await Poll.Until(() => host.Snapshot().Generation == 2, "generation 2", timeoutMs: 10_000);
        Assert.Equal(2, _loads);
        Assert.Equal(hostId, host.Plan.HostId);
    }
}
