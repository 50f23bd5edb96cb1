using System.Collections;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Serving.Runtime.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class SupervisorTests : IDisposable
{
    private readonly string _temp = Path.Combine("/tmp", "svt-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeLauncher _launcher = new();
    private readonly List<ServingHost> _hosts = new();

    public SupervisorTests() => Directory.CreateDirectory(_temp);

    public void Dispose()
    {
        foreach (var h in _hosts) h.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    private static readonly RespawnPolicy FastPolicy = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(20),
        StablePeriod = TimeSpan.FromSeconds(10),
        MaxFastCrashes = 3,
    };

    private ServingHost NewHost(bool respawn = true, bool container = false, int apiWorkers = 2, TransportChoice transport = TransportChoice.Auto,
        TimeSpan? startTimeout = null, int port = 0, TimeSpan? stopTimeout = null, ApiDefinition[]? apis = null, WorkerTuning? tuning = null,
        ServingProtocol protocol = ServingProtocol.Http, bool development = false, bool overlap = true, ReloadOptions? reload = null,
        string? serviceDirectory = null, LogLevel logLevel = LogLevel.Information, int logCapacity = 10_000,
        Func<string, CancellationToken, Task<bool>>? readiness = null)
    {
        var files = container ? new Hashtable { ["/.dockerenv"] = "" } : null;
        var platform = Facts.Info("Linux", files: files, temp: _temp, cpus: 2);
        var options = new PlanOptions
        {
            Port = port, HostAddress = "127.0.0.1", ApiWorkers = development ? null : apiWorkers, Transport = transport,
            Respawn = respawn ? RespawnChoice.Always : RespawnChoice.Never, Protocol = protocol, Development = development,
        };
        var plan = HostPlanner.Plan(platform, Service(apis: apis, directory: serviceDirectory), options);
        var host = new ServingHost(plan, new HostOptions
        {
            Name = "t",
            StartTimeout = startTimeout ?? TimeSpan.FromSeconds(5),
            StopTimeout = stopTimeout ?? TimeSpan.FromSeconds(5),
            RespawnPolicy = FastPolicy,
            ReadinessProbe = readiness ?? ((_, _) => Task.FromResult(true)),
            Tuning = tuning ?? new WorkerTuning(),
            SuccessorsOverlap = overlap,
            Reload = reload,
            LogLevel = logLevel,
            LogCapacity = logCapacity,
        }, _launcher, TestHostIds.Next());
        _planOptions[host] = options;
        _hosts.Add(host);
        return host;
    }

    private readonly Dictionary<ServingHost, PlanOptions> _planOptions = new();

    /// <summary>The test service: echo (2 workers) and classifier (1), the demo's APIs unless others are given.</summary>
    private static ServiceDefinition Service(int echoWorkers = 2, int classifierWorkers = 1, ApiDefinition[]? apis = null, string? directory = null) => new()
    {
        Name = "demo",
        Directory = directory ?? "",
        Runners = new[]
        {
            new RunnerDefinition { Name = "echo", Type = "E", Workers = echoWorkers },
            new RunnerDefinition { Name = "classifier", Type = "C", Workers = classifierWorkers },
        },
        Apis = apis ?? Facts.Demo.Apis,
    };

    /// <summary>The next generation's plan of <paramref name="host"/>: as a reload plans it, with the service changed as given.</summary>
    private HostPlan Replan(ServingHost host, ServiceDefinition service, int? apiWorkers = null)
    {
        var options = _planOptions[host] with { HostId = host.Plan.HostId };
        if (apiWorkers is not null) options = options with { ApiWorkers = apiWorkers };
        return HostPlanner.Plan(host.Plan.Platform, service, options);
    }

    [Fact]
    public async Task Start_runs_every_planned_worker_and_the_host_is_running()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var info = host.Snapshot();
        Assert.Equal(HostState.Running, info.State);
        Assert.Equal(new[] { "echo-1", "echo-2", "classifier-1", "api-1", "api-2" }, info.Workers.Select(w => w.Name));
        Assert.All(info.Workers, w => Assert.Equal(WorkerState.Running, w.State));
        Assert.Equal(5, _launcher.Started.Count);
        // Runners start before the API workers that call them.
        Assert.Equal(WorkerRole.Runner, _launcher.Started.First().Spec.Role);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", info.Url);
        Assert.DoesNotContain(":0", info.Url);
    }

    [Fact]
    public async Task Workers_get_their_arguments_environment_and_an_inherited_socket()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var echo2 = _launcher.Started.Single(p => p.Spec.Name == "echo-2").Spec;
        Assert.Equal("2", echo2.Environment["SERVING_WORKER_INDEX"]);
        Assert.Equal("echo", echo2.Environment["SERVING_RUNNER"]);
        Assert.Equal("runner", echo2.Environment["SERVING_ROLE"]);
        Assert.Contains("--listen-fd", echo2.Arguments);
        Assert.Equal("echo", echo2.Arguments[echo2.Arguments.ToList().IndexOf("--runner") + 1]);
        Assert.EndsWith("/echo.sock", echo2.Endpoint);
        var api = _launcher.Started.Single(p => p.Spec.Name == "api-1").Spec;
        Assert.Same(_launcher.Started.Single(p => p.Spec.Name == "api-2").Spec.InheritedListener, api.InheritedListener);
    }

    [Fact]
    public async Task The_socket_directory_is_private_and_holds_the_sockets_and_host_json()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var dir = host.Plan.SocketDirectory;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.True(NativeFd.IsSocketFile(Path.Combine(dir, "echo.sock")));
        Assert.True(NativeFd.IsSocketFile(Path.Combine(dir, "classifier.sock")));
        var json = Path.Combine(dir, "host.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(json));
        Assert.Contains("\"echo\"", File.ReadAllText(json));
        Assert.DoesNotContain("runnerSecret", File.ReadAllText(json));
    }

    [Fact]
    public async Task Batching_overrides_reach_host_json_only_where_the_manifest_sets_them()
    {
        var host = NewHost(apis: new[]
        {
            new ApiDefinition { Route = "/echo", Runner = "echo", Method = "echo" },
            new ApiDefinition { Route = "/classify", Runner = "classifier", Method = "classify", MaxBatchSize = 32, MaxLatencyMs = 0 },
            new ApiDefinition { Route = "/classify-one", Runner = "classifier", Method = "classify", MaxBatchSize = 1 },
        });
        await host.StartAsync(null, CancellationToken.None);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(host.Plan.SocketDirectory, "host.json")));
        var apis = json.RootElement.GetProperty("service").GetProperty("apis");
        Assert.False(apis[0].TryGetProperty("maxBatchSize", out _));
        Assert.False(apis[0].TryGetProperty("maxLatencyMs", out _));
        Assert.Equal(32, apis[1].GetProperty("maxBatchSize").GetInt32());
        Assert.Equal(0, apis[1].GetProperty("maxLatencyMs").GetInt32());
        Assert.Equal(1, apis[2].GetProperty("maxBatchSize").GetInt32());
        Assert.False(apis[2].TryGetProperty("maxLatencyMs", out _));
    }

    [Fact]
    public async Task Every_worker_tunable_reaches_host_json_under_the_name_the_worker_reads()
    {
        var host = NewHost(tuning: new WorkerTuning
        {
            RunnerConnectTimeoutMs = 1234, DeadlineSweepMs = 7, ConnectionsPerRunnerWorker = 3, MaxConnectionsPerRunner = 9,
            RunnerHelloTimeoutMs = 4321, StatsIntervalMs = 250, BatchQueueBatches = 5,
        });
        await host.StartAsync(null, CancellationToken.None);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(host.Plan.SocketDirectory, "host.json")));
        var tuning = json.RootElement.GetProperty("tuning");
        var expected = new Dictionary<string, int>
        {
            ["runnerConnectTimeoutMs"] = 1234, ["deadlineSweepMs"] = 7, ["connectionsPerRunnerWorker"] = 3, ["maxConnectionsPerRunner"] = 9,
            ["runnerHelloTimeoutMs"] = 4321, ["statsIntervalMs"] = 250, ["batchQueueBatches"] = 5,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), tuning.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt32())).OrderBy(p => p.Key));
        // The defaults, like every other value, are written out: the worker runs with what the supervisor holds.
        Assert.Equal(ServingDefaults.RequestTimeoutSeconds, json.RootElement.GetProperty("requestTimeoutSeconds").GetInt32());
        Assert.Equal(ServingDefaults.MaxRequestBodyBytes, json.RootElement.GetProperty("maxRequestBodyBytes").GetInt64());
    }

    [Theory]
    [InlineData(ServingProtocol.Http, "0x200000")]
    [InlineData(ServingProtocol.Grpc, "0x100000")]
    public async Task Workers_get_a_small_gen0_budget_and_the_grpc_front_doors_api_workers_a_smaller_one(ServingProtocol protocol, string api)
    {
        if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is not null)
            return; // an operator's own setting wins (and this machine has one)
        var host = NewHost(protocol: protocol, port: protocol == ServingProtocol.Grpc ? 8080 : 0);
        await host.StartAsync(null, CancellationToken.None);
        foreach (var p in _launcher.Started)
            Assert.Equal(p.Spec.Role == WorkerRole.Api ? api : "0x200000", p.Spec.Environment["DOTNET_GCgen0size"]);
    }

    [Fact]
    public async Task Events_are_raised_outside_the_lock_so_a_handler_may_wait_for_a_thread_that_takes_it()
    {
        var host = NewHost();
        var probes = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        // Raised under the supervisor's lock, the snapshot on the other thread would wait for it: a deadlock
        // (here: a probe that times out). PowerShell's job state changes run in these handlers.
        void Probe() => probes.Enqueue(Task.Run(() => host.Snapshot()).Wait(TimeSpan.FromSeconds(2)));
        host.WorkerChanged += _ => Probe();
        host.StateChanged += _ => Probe();
        await host.StartAsync(null, CancellationToken.None);
        _launcher.Started.First(p => p.Spec.Name == "echo-1").Exit(137);
        await Poll.Until(() => _launcher.Started.Count(p => p.Spec.Name == "echo-1") == 2, "the respawn");
        await host.StopAsync(TimeSpan.Zero, force: true);
        Assert.True(probes.Count >= 10, $"{probes.Count} events");
        Assert.All(probes, Assert.True);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_restarted_worker_drains_and_starts_again_at_once_without_counting_a_crash(bool respawn)
    {
        // With respawn off too: a restart on request is a planned exit, not a crash the container rule is about.
        var host = NewHost(respawn: respawn);
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("classifier-1").Single();
        await host.RestartWorkerAsync("classifier-1", TimeSpan.FromSeconds(5));
        Assert.Contains(old.Received, l => l.StartsWith("stop ", StringComparison.Ordinal));
        var fresh = _launcher.Live("classifier-1").Single();
        Assert.NotSame(old, fresh);
        var info = host.Snapshot();
        Assert.Equal(HostState.Running, info.State);
        var worker = info.Workers.Single(w => w.Name == "classifier-1");
        Assert.Equal((WorkerState.Running, 1, fresh.Pid), (worker.State, worker.Restarts, worker.Pid));
        Assert.Contains(host.Workers.Single(w => w.Name == "classifier-1").RecentLines(), l => l.Contains("restarting on request"));
    }

    [Fact]
    public async Task A_worker_that_ignores_the_drain_is_killed_after_the_timeout_and_started_again()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var old = _launcher.Live("api-1").Single();
        old.IgnoresStop = true;
        await host.RestartWorkerAsync("api-1", TimeSpan.FromMilliseconds(100));
        Assert.True(old.Killed);
        Assert.Equal(WorkerState.Running, host.Snapshot().Workers.Single(w => w.Name == "api-1").State);
    }

    [Fact]
    public async Task Only_a_running_worker_of_a_running_host_can_be_restarted()
    {
        _launcher.AutoReady = s => s.Name != "echo-2";
        var host = NewHost(startTimeout: TimeSpan.FromSeconds(30));
        var start = host.StartAsync(null, CancellationToken.None);
        await Poll.Until(() => _launcher.Live("echo-2").Length == 1 && _launcher.Live("api-2").Length == 1, "the workers to start");
        var starting = await Assert.ThrowsAsync<ServingException>(() => host.RestartWorkerAsync("echo-2", TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.WorkerNotRestartable, starting.ErrorId);
        Assert.Contains("is Starting: only a running worker", starting.Message);
        var unknown = await Assert.ThrowsAsync<ServingException>(() => host.RestartWorkerAsync("nope-1", TimeSpan.FromSeconds(1)));
        Assert.Equal(ErrorIds.WorkerNotRestartable, unknown.ErrorId);
        Assert.Contains("has no worker 'nope-1'", unknown.Message);
        _launcher.Live("echo-2").Single().Ready();
        await start;
        await host.StopAsync(TimeSpan.Zero, force: true);
        var stopped = await Assert.ThrowsAsync<ServingException>(() => host.RestartWorkerAsync("echo-1", TimeSpan.FromSeconds(1)));
        Assert.Contains("is stopping", stopped.Message);
    }

    [Fact]
    public async Task The_host_completes_only_after_its_last_state_change_was_raised()
    {
        var host = NewHost();
        HostState? last = null;
        host.StateChanged += s => { Thread.Sleep(50); last = s; };
        await host.StartAsync(null, CancellationToken.None);
        await host.StopAsync(TimeSpan.Zero, force: true);
        Assert.True(host.Completion.IsCompleted);
        Assert.Equal(HostState.Stopped, last);
    }

    [Fact]
    public async Task Tcp_runners_bind_loopback_ephemeral_ports_and_get_a_secret()
    {
        var host = NewHost(transport: TransportChoice.Tcp);
        await host.StartAsync(null, CancellationToken.None);
        var endpoint = host.Snapshot().Workers.First(w => w.Name == "echo-1").Endpoint;
        Assert.Matches(@"^127\.0\.0\.1:\d+$", endpoint);
        Assert.NotEqual("127.0.0.1:0", endpoint);
        var json = File.ReadAllText(Path.Combine(_temp, "serving-" + host.Plan.HostId, "host.json"));
        Assert.Matches("\"runnerSecret\": \"[0-9A-F]{64}\"", json);
    }

    [Fact]
    public async Task A_worker_that_exits_while_starting_fails_the_start_with_its_last_lines_and_nothing_is_left()
    {
        _launcher.AutoReady = s => s.Name != "classifier-1";
        _launcher.OnStart = p =>
        {
            if (p.Spec.Name != "classifier-1") return;
            Task.Run(() => { p.Print("fail: could not load model weights.bin"); p.Exit(3); });
        };
        var host = NewHost();
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.WorkerStartFailed, e.ErrorId);
        Assert.Contains("classifier-1", e.Message);
        Assert.Contains("could not load model weights.bin", e.Message);
        Assert.All(_launcher.Started, p => Assert.True(p.Exited.IsCompleted));
        Assert.False(Directory.Exists(host.Plan.SocketDirectory));
        Assert.Equal(HostState.Failed, host.State);
    }

    [Fact]
    public async Task A_host_that_does_not_become_ready_in_time_times_out_and_leaves_nothing()
    {
        _launcher.AutoReady = s => s.Role != WorkerRole.Api;
        var host = NewHost(startTimeout: TimeSpan.FromMilliseconds(300));
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.HostStartTimeout, e.ErrorId);
        Assert.Contains("api-1", e.Message);
        Assert.All(_launcher.Started, p => Assert.True(p.Exited.IsCompleted));
        Assert.False(Directory.Exists(host.Plan.SocketDirectory));
    }

    [Fact]
    public async Task A_probe_that_never_passes_though_every_worker_is_ready_says_what_readyz_answers_and_shows_an_api_worker()
    {
        var host = NewHost(startTimeout: TimeSpan.FromMilliseconds(300), readiness: (_, _) => Task.FromResult(false));
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.HostStartTimeout, e.ErrorId);
        // The fake workers never accept on the API socket: the description's own request gets no answer.
        Assert.Contains("/readyz did not answer 200; /readyz now: no answer (", e.Message);
        Assert.Contains("Last lines of api-1:", e.Message);
        Assert.All(_launcher.Started, p => Assert.True(p.Exited.IsCompleted));
    }

    [Fact]
    public async Task A_crashed_worker_is_respawned_with_a_new_pid()
    {
        var host = NewHost(respawn: true);
        await host.StartAsync(null, CancellationToken.None);
        var first = _launcher.Live("echo-1").Single();
        first.Exit(137);
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-1") is { State: WorkerState.Running, Restarts: 1 }, "echo-1 respawned");
        var info = host.Snapshot().Workers.Single(w => w.Name == "echo-1");
        Assert.NotEqual(first.Pid, info.Pid);
        Assert.Equal(137, info.LastExitCode);
        Assert.Equal(HostState.Running, host.State);
    }

    [Fact]
    public async Task Without_respawn_a_worker_that_exits_ends_the_host_failed_after_a_graceful_stop()
    {
        var host = NewHost(respawn: false, stopTimeout: TimeSpan.FromSeconds(3));
        await host.StartAsync(null, CancellationToken.None);
        _launcher.Live("classifier-1").Single().Exit(137);
        await host.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        var info = host.Snapshot();
        Assert.Equal(HostState.Failed, info.State);
        Assert.Contains("worker classifier-1 exited with code 137 (SIGKILL) and is not respawned", info.Reason);
        Assert.Equal(WorkerState.Exited, info.Workers.Single(w => w.Name == "classifier-1").State);
        Assert.Equal(5, _launcher.Started.Count); // nothing respawned
        foreach (var p in _launcher.Started.Where(p => p.Spec.Name != "classifier-1"))
        {
            Assert.Contains("stop 3", p.Received); // gracefully, with the host's stop timeout
            Assert.False(p.Killed);
        }
        foreach (var api in _launcher.Started.Where(p => p.Spec.Role == WorkerRole.Api))
        {
            // /livez turns 503 before the drain begins, with the reason.
            var lines = api.Received.ToList();
            var failing = lines.FindIndex(l => l.StartsWith("failing ", StringComparison.Ordinal));
            Assert.True(failing >= 0 && failing < lines.IndexOf("stop 3"), string.Join(" | ", lines));
            Assert.Contains("classifier-1 exited", lines[failing]);
        }
        Assert.False(Directory.Exists(host.Plan.SocketDirectory));
    }

    [Fact]
    public async Task Api_workers_hear_when_a_runner_has_no_live_worker_and_when_it_is_back()
    {
        var host = NewHost(respawn: true);
        await host.StartAsync(null, CancellationToken.None);
        var api = _launcher.Live("api-1").Single();
        // However the start raced, the last word on every runner is not "down".
        Assert.DoesNotContain(LastWord(api, "classifier"), new[] { "runner-down" });
        Assert.DoesNotContain(LastWord(api, "echo"), new[] { "runner-down" });

        // echo keeps a live worker when one of its two dies: nothing to say.
        var said = api.Received.Count;
        _launcher.Live("echo-1").Single().Exit(137);
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-1") is { State: WorkerState.Running, Restarts: 1 }, "echo-1 respawned");
        Assert.DoesNotContain(api.Received.Skip(said), l => l.Contains(" echo", StringComparison.Ordinal));

        // classifier's only worker dies: down (restarting, a short retry hint), then up once it is back.
        said = api.Received.Count;
        _launcher.Live("classifier-1").Single().Exit(137);
        await Poll.Until(() => LastWord(api, "classifier") == "runner-up" &&
            api.Received.Skip(said).Any(l => l.StartsWith("runner-down classifier ", StringComparison.Ordinal)) &&
            _launcher.Live("api-2").All(p => LastWord(p, "classifier") == "runner-up"), "classifier down, then up, for both API workers");
        var down = api.Received.Skip(said).First(l => l.StartsWith("runner-down classifier ", StringComparison.Ordinal));
        Assert.Matches(@"^runner-down classifier [12] restarting$", down);
    }

    [Fact]
    public async Task A_runner_given_up_on_is_down_for_api_workers_including_ones_started_later()
    {
        var host = NewHost(respawn: true);
        await host.StartAsync(null, CancellationToken.None);
        for (var crash = 0; crash < FastPolicy.MaxFastCrashes; crash++)
        {
            await Poll.Until(() => _launcher.Live("classifier-1").Length == 1 &&
                host.Snapshot().Workers.Single(w => w.Name == "classifier-1").State == WorkerState.Running, "classifier-1 running");
            _launcher.Live("classifier-1").Single().Exit(1);
        }
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "classifier-1").State == WorkerState.Failed, "classifier-1 failed");
        var api = _launcher.Live("api-1").Single();
        await Poll.Until(() => LastWord(api, "classifier") == "runner-down", "api-1 told");
        Assert.Equal($"runner-down classifier {LifelineCommands.FailedRunnerRetryAfter.TotalSeconds:0} failed: given up after repeated crashes",
            api.Received.Last(l => l.Contains(" classifier", StringComparison.Ordinal)));

        // A respawned API worker is told at once.
        api.Exit(137);
        await Poll.Until(() => _launcher.Live("api-1").Length == 1, "api-1 respawned");
        var again = _launcher.Live("api-1").Single();
        await Poll.Until(() => LastWord(again, "classifier") == "runner-down", "the new api-1 told");
        Assert.DoesNotContain(again.Received, l => l.Contains(" echo", StringComparison.Ordinal));
        Assert.Equal(HostState.Degraded, host.State); // with respawn on, the other runners keep serving
    }

    /// <summary>The command of the last runner-up / runner-down line a worker received about a runner, or "".</summary>
    private static string LastWord(FakeProcess process, string runner) =>
        process.Received.LastOrDefault(l => l == "runner-up " + runner || l.StartsWith("runner-down " + runner + " ", StringComparison.Ordinal))
            ?.Split(' ')[0] ?? "";

    [Fact]
    public async Task Repeated_fast_crashes_give_up_and_mark_the_worker_failed()
    {
        var host = NewHost(respawn: true);
        await host.StartAsync(null, CancellationToken.None);
        for (var crash = 0; crash < FastPolicy.MaxFastCrashes; crash++)
        {
            await Poll.Until(() => _launcher.Live("echo-1").Length == 1 &&
                host.Snapshot().Workers.Single(w => w.Name == "echo-1").State == WorkerState.Running, "echo-1 running");
            _launcher.Live("echo-1").Single().Exit(1);
        }
        await Poll.Until(() => host.Snapshot().Workers.Single(w => w.Name == "echo-1").State == WorkerState.Failed, "echo-1 failed");
        Assert.Equal(HostState.Degraded, host.State);
        Assert.Equal(FastPolicy.MaxFastCrashes - 1, host.Snapshot().Workers.Single(w => w.Name == "echo-1").Restarts);
    }

    [Fact]
    public async Task Stop_drains_api_workers_first_then_runners_and_removes_the_directory()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        await host.StopAsync(TimeSpan.FromSeconds(5), force: false);
        Assert.Equal(HostState.Stopped, host.State);
        Assert.All(_launcher.Started, p => Assert.Contains("stop 5", p.Received));
        Assert.All(_launcher.Started, p => Assert.False(p.Killed));
        var lastApi = _launcher.Started.Where(p => p.Spec.Role == WorkerRole.Api).Max(p => p.StopSequence);
        var firstRunner = _launcher.Started.Where(p => p.Spec.Role == WorkerRole.Runner).Min(p => p.StopSequence);
        Assert.True(lastApi < firstRunner, "API workers are told to stop (and drain) before runners");
        Assert.False(Directory.Exists(host.Plan.SocketDirectory));
        Assert.All(host.Snapshot().Workers, w => Assert.Equal(WorkerState.Stopped, w.State));
        Assert.True(host.Completion.IsCompleted);
    }

    [Fact]
    public async Task Stop_kills_workers_that_do_not_drain_in_time()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        foreach (var p in _launcher.Started) p.IgnoresStop = true;
        await host.StopAsync(TimeSpan.FromMilliseconds(200), force: false);
        Assert.All(_launcher.Started, p => Assert.True(p.Killed));
        Assert.Equal(HostState.Stopped, host.State);
    }

    [Fact]
    public async Task Stop_releases_the_port()
    {
        var host = NewHost();
        await host.StartAsync(null, CancellationToken.None);
        var port = new Uri(host.Url).Port;
        await host.StopAsync(TimeSpan.FromSeconds(1), force: false);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task A_port_in_use_is_an_error_before_any_worker_starts()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var host = NewHost(port: ((IPEndPoint)taken.LocalEndPoint!).Port);
        var e = await Assert.ThrowsAsync<ServingException>(() => host.StartAsync(null, CancellationToken.None));
        Assert.Equal(ErrorIds.PortInUse, e.ErrorId);
        Assert.Empty(_launcher.Started);
        Assert.False(Directory.Exists(host.Plan.SocketDirectory));
    }

    [Fact]
    public async Task Stale_host_directories_are_swept_only_when_their_lock_is_free_whatever_their_pid_says()
    {
        // Owner gone: the lock file is there, nobody holds it. Its pid file names a live process
        // (ours): the pid must not keep a directory whose lock is free.
        var dead = Path.Combine(_temp, "serving-deadbeef");
        StaleHostSweeper.CreatePrivateDirectory(dead).Dispose();
        File.WriteAllText(Path.Combine(dead, "echo.sock"), "");

        // Owner alive in this process.
        var alive = Path.Combine(_temp, "serving-a11ve000");
        using var aliveLock = StaleHostSweeper.CreatePrivateDirectory(alive);

        // Owner alive in another process whose pid we cannot see (as from another PID namespace):
        // flock(1) holds the lock, the pid file names a process that does not exist here.
        var elsewhere = Path.Combine(_temp, "serving-e15e0000");
        StaleHostSweeper.CreatePrivateDirectory(elsewhere).Dispose();
        File.WriteAllText(Path.Combine(elsewhere, StaleHostSweeper.PidFile), "999999999");
        using var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock",
            new[] { "--exclusive", "--no-fork", Path.Combine(elsewhere, HostDirectoryLock.FileName), "sleep", "30" }))!;
        try
        {
            await Poll.Until(() => IsLocked(elsewhere), "flock(1) holds the lock");

            // Older layouts (a pid file, no lock file) and foreign directories are never touched.
            var legacy = Path.Combine(_temp, "serving-1e9ac700");
            Directory.CreateDirectory(legacy);
            File.WriteAllText(Path.Combine(legacy, StaleHostSweeper.PidFile), "999999999");
            var foreign = Path.Combine(_temp, "serving-notours00");
            Directory.CreateDirectory(foreign);

            StaleHostSweeper.Sweep(_temp);
            Assert.False(Directory.Exists(dead));
            Assert.True(Directory.Exists(alive));
            Assert.True(Directory.Exists(elsewhere));
            Assert.True(Directory.Exists(legacy));
            Assert.True(Directory.Exists(foreign));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
        }

        // Once the other process is gone, its directory is swept.
        StaleHostSweeper.Sweep(_temp);
        Assert.False(Directory.Exists(elsewhere));
    }

    private static bool IsLocked(string directory)
    {
        using var taken = HostDirectoryLock.TryTakeOver(directory);
        return taken is null;
    }

    [Fact]
    public void A_host_directory_is_0700_and_its_lock_file_is_held_while_the_host_lives()
    {
        var dir = Path.Combine(_temp, "serving-0a0a0a0a");
        var held = StaleHostSweeper.CreatePrivateDirectory(dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Null(HostDirectoryLock.TryTakeOver(dir));
        Assert.Equal(new[] { HostDirectoryLock.FileName, StaleHostSweeper.PidFile },
            Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        held.Dispose();
        using var taken = HostDirectoryLock.TryTakeOver(dir);
        Assert.NotNull(taken);
    }

    [Fact]
    public void Runner_socket_files_are_0600()
    {
        using var listener = HostListeners.BindUnix(Path.Combine(_temp, "mode.sock"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(listener.UnixPath!));
    }

    [Fact]
    public void Only_socket_files_are_removed_as_stale()
    {
        var file = Path.Combine(_temp, "not-a-socket.sock");
        File.WriteAllText(file, "data");
        HostListeners.RemoveStaleSocket(file);
        Assert.True(File.Exists(file));
        // A socket file left by a killed process: close the fd without .NET's unlink-on-dispose.
        var path = Path.Combine(_temp, "stale.sock");
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        var fd = s.SafeHandle.DangerousGetHandle();
        s.SafeHandle.SetHandleAsInvalid();
        Close(fd);
        Assert.True(NativeFd.IsSocketFile(path));
        using var listener = HostListeners.BindUnix(path); // would fail with EADDRINUSE if the stale file stayed
        Assert.True(NativeFd.IsSocketFile(path));
    }

    [Fact]
    public void Releasing_our_copy_of_a_shared_socket_does_not_stop_the_others_from_accepting()
    {
        var path = Path.Combine(_temp, "shared.sock");
        using var listener = HostListeners.BindUnix(path);
        // A second fd for the same socket, as a worker would hold after inheriting it.
        var duplicate = new Socket(new SafeSocketHandle(Dup(listener.Handle), ownsHandle: true));
        listener.Release();
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        using var accepted = duplicate.Accept();
        Assert.True(accepted.Connected);
        duplicate.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(IntPtr fd);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern IntPtr Dup(IntPtr fd);
}

public sealed class RespawnPolicyTests
{
    [Fact]
    public void Backoff_doubles_from_100ms_and_caps_at_10s()
    {
        var policy = new RespawnPolicy { MaxFastCrashes = 100 };
        var fast = 0;
        var delays = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var next = policy.Next(fast, TimeSpan.FromSeconds(1))!.Value;
            delays.Add(next.Delay.TotalMilliseconds);
            fast = next.FastCrashes;
        }
        Assert.Equal(new double[] { 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000 }, delays);
    }

    [Fact]
    public void A_stable_run_resets_the_backoff()
    {
        var next = RespawnPolicy.Default.Next(3, TimeSpan.FromSeconds(30))!.Value;
        Assert.Equal(0, next.FastCrashes);
        Assert.Equal(TimeSpan.FromMilliseconds(100), next.Delay);
    }

    [Fact]
    public void Repeated_fast_crashes_give_up()
    {
        Assert.NotNull(RespawnPolicy.Default.Next(3, TimeSpan.FromMilliseconds(50)));
        Assert.Null(RespawnPolicy.Default.Next(4, TimeSpan.FromMilliseconds(50)));
    }
}
