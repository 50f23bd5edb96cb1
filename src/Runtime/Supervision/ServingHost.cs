using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Serving;

/// <summary>
/// The supervisor of one host: carries out a <see cref="HostPlan"/> — binds the listeners, writes
/// host.json, starts runner and API workers, watches them, respawns by the plan's policy, and stops
/// them gracefully. The only code that touches processes (through <see cref="IWorkerLauncher"/>).
/// </summary>
public sealed partial class ServingHost : IDisposable
{
    public const string ReadyEvent = "@@serving ready";

    /// <summary>How long past its drain timeout a worker may take to exit before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private const string ControlPrefix = "@@serving ";
    private const string StatsPrefix = "@@serving stats ";

    private readonly object _gate = new();
    private readonly EventOutbox _events = new();
    private readonly IWorkerLauncher _launcher;
    private readonly HostOptions _options;
    private readonly List<WorkerSlot> _slots = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new();
    private HostBindings? _bindings;
    private HostStateDirectory? _stateDirectory;
    private string _url;
    private HostState _state = HostState.Starting;
    private string _reason = "";
    private bool _stopping;
    // Set when a worker is gone for good with respawn off: the host ends, and ends Failed with this.
    private string? _failure;
    // Whether each runner had a live (Running) worker when the API workers were last told.
    private readonly Dictionary<string, bool> _runnerLive = new(StringComparer.Ordinal);
    // The counters of runner workers removed by scaling down, by runner: the totals never go backwards.
    private readonly Dictionary<string, RunnerWorkerStats> _removedStats = new(StringComparer.Ordinal);
    private Task? _stopTask;
    private DateTimeOffset? _startedAt, _stoppedAt;
    private TaskCompletionSource<WorkerSlot>? _startFailure;
    private WorkerSpecs.SpecContext? _specContext;

    public ServingHost(HostPlan plan, HostOptions options, IWorkerLauncher launcher, int id)
    {
        Plan = plan;
        _options = options;
        _launcher = launcher;
        Id = id;
        Name = options.Name;
        _url = plan.Url;
    }

    /// <summary>The plan the host serves now: the one it started with, or its latest generation's (a reload replans).</summary>
    public HostPlan Plan { get; private set; }
    public string Name { get; }
    public int Id { get; }
    public string Url { get { using (Gate()) return _url; } }
    public HostState State { get { using (Gate()) return _state; } }
    public IReadOnlyList<WorkerSlot> Workers { get { using (Gate()) return _slots.ToArray(); } }

    /// <summary>Completes when the host has stopped or failed and everything is cleaned up.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Every line any worker writes, plus the supervisor's notes about workers.</summary>
    public event Action<WorkerLogEntry>? Log;

    /// <summary>
    /// A worker changed state (started, ready, exited, respawned, failed): the worker as it was at the
    /// change (events are raised after the supervisor lets go of its lock, when it may have moved on).
    /// </summary>
    public event Action<WorkerInfo>? WorkerChanged;

    /// <summary>The host changed state.</summary>
    public event Action<HostState>? StateChanged;

    /// <summary>
    /// Starts everything and returns once /readyz answers 200. On any failure everything started is
    /// stopped and removed before the exception propagates.
    /// </summary>
    public async Task StartAsync(IProgress<(int Percent, string Status)>? progress, CancellationToken cancellationToken)
    {
        try
        {
            progress?.Report((5, "Binding listeners"));
            _stateDirectory = HostStateDirectory.Create(Plan);
            BindListeners();
            _secret = Plan.Transport == RunnerTransport.Tcp ? Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) : "";
            if (Plan.Mode == ServingMode.Production)
                foreach (var runner in Plan.Runners)
                    _runnerWorkers[runner.Name] = runner.Workers;
            _apiWorkers = Plan.ApiWorkers;
            var configPath = _stateDirectory.File(ConfigFileName(1));
            WriteHostConfig(Plan, _bindings!, configPath);
            CreateSlots(configPath);

            _startFailure = new TaskCompletionSource<WorkerSlot>(TaskCreationOptions.RunContinuationsAsynchronously);
            var slots = Workers;
            var started = 0;
            foreach (var slot in slots)
            {
                using (Gate()) Spawn(slot);
                started++;
                progress?.Report((10 + 40 * started / slots.Count, $"Started {slot.Name}"));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.StartTimeout);
            await WaitForReadyAsync(slots, progress, timeout.Token, cancellationToken).ConfigureAwait(false);

            using (Gate())
            {
                _startedAt = DateTimeOffset.Now;
                _startFailure = null;
                UpdateState();
            }
            StartWatching();
            progress?.Report((100, "Ready"));
        }
        catch
        {
            await StopAsync(TimeSpan.Zero, force: true).ConfigureAwait(false);
            using (Gate()) SetState(HostState.Failed, "The host failed to start.");
            throw;
        }
    }

    private async Task WaitForReadyAsync(IReadOnlyList<WorkerSlot> slots, IProgress<(int, string)>? progress,
        CancellationToken timeout, CancellationToken userCancel)
    {
        var failure = _startFailure!.Task;
        try
        {
            foreach (var slot in slots)
            {
                var ready = slot.Ready;
                var done = await Task.WhenAny(ready, failure, Task.Delay(Timeout.Infinite, timeout)).ConfigureAwait(false);
                if (done == failure) throw StartFailed(await failure.ConfigureAwait(false));
                if (done != ready) throw StartTimedOut(slot);
            }
            progress?.Report((80, "Waiting for /readyz"));
            while (true)
            {
                if (failure.IsCompleted) throw StartFailed(await failure.ConfigureAwait(false));
                if (await _options.ReadinessProbe(Url, timeout).ConfigureAwait(false)) return;
                await Task.Delay(50, timeout).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !userCancel.IsCancellationRequested)
        {
            throw StartTimedOut(null);
        }
    }

    private ServingException StartFailed(WorkerSlot slot) => new(ErrorIds.WorkerStartFailed, ServingErrorKind.InvalidOperation,
        $"Worker {slot.Name} exited with code {slot.LastExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} while host '{Name}' was starting; " +
        $"nothing was left running. Its last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);

    private ServingException StartTimedOut(WorkerSlot? slot)
    {
        var waiting = slot ?? Workers.FirstOrDefault(s => !s.Ready.IsCompleted) ?? Workers.FirstOrDefault();
        var what = slot != null ? $"worker {slot.Name} did not report ready"
            : Plan.Protocol == ServingProtocol.Grpc ? $"grpc.health.v1 Check at {Url} did not answer SERVING" : $"{Url}/readyz did not answer 200";
        return new ServingException(ErrorIds.HostStartTimeout, ServingErrorKind.OperationTimeout,
            $"Host '{Name}' did not become ready within {_options.StartTimeout.TotalSeconds:0.#} s ({what}); nothing was left running. " +
            $"Raise -StartTimeout if the service needs longer to load." +
            (waiting != null ? $" Last lines of {waiting.Name}:{Environment.NewLine}{Tail(waiting)}" : ""),
            Name);
    }

    private static string Tail(WorkerSlot slot)
    {
        var lines = slot.RecentLines();
        return lines.Length == 0 ? "  (no output)" : "  " + string.Join(Environment.NewLine + "  ", lines.TakeLast(15));
    }

    /// <summary>
    /// Stops the host: stop accepting, let API workers drain up to <paramref name="timeout"/>, then
    /// runners, then kill what is left; remove the socket directory; release the port.
    /// Safe to call more than once and from any thread; later calls wait for the first.
    /// </summary>
    public Task StopAsync(TimeSpan timeout, bool force)
    {
        using (Gate())
        {
            if (_stopTask != null)
            {
                if (force) KillAll();
                return _stopTask;
            }
            _stopping = true;
            if (_state != HostState.Failed) SetState(HostState.Stopping, _failure ?? "");
            _stopTask = Task.Run(() => StopCoreAsync(timeout, force));
            return _stopTask;
        }
    }

    private async Task StopCoreAsync(TimeSpan timeout, bool force)
    {
        _lifetime.Cancel();
        StopWatching();
        // The whole host stops: the shared API socket drops new handshakes while the workers still
        // accept, so the ones under way complete and are served; when the last copy closes, nothing
        // is left to reset (ListenerSynFilter). Workers filter the sockets they own alone themselves.
        if (!force && timeout > TimeSpan.Zero && !WorkerSpecs.ApiWorkersBindThemselves(Plan) && _bindings?.Api is { IsClosed: false } api
            && ListenerSynFilter.TryAttach(api.Socket))
        {
            await Task.Delay(ListenerSynFilter.SettleWithin(timeout)).ConfigureAwait(false);
        }
        WorkerSlot[] slots;
        using (Gate())
        {
            slots = _slots.ToArray();
            foreach (var slot in slots)
            {
                slot.PendingRespawn?.Cancel();
                if (slot.State is WorkerState.Backoff) SetWorker(slot, WorkerState.Stopped);
            }
            // Drop our copy; each worker stops accepting on its own copy as it drains.
            _bindings?.Api.Release();
        }

        var deadline = DateTime.UtcNow + timeout;
        if (!force && timeout > TimeSpan.Zero)
        {
            // Front first, so in-flight API requests can still reach their runners while they drain. A
            // worker answers what is still running just before its drain ends; the grace lets it finish.
            await StopGroupAsync(slots.Where(s => s.Spec.Role != WorkerRole.Runner), timeout, deadline + StopGrace).ConfigureAwait(false);
            var runnerDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(2, (deadline - DateTime.UtcNow).TotalSeconds));
            await StopGroupAsync(slots.Where(s => s.Spec.Role == WorkerRole.Runner), timeout, runnerDeadline).ConfigureAwait(false);
        }

        Task[] exits;
        using (Gate())
        {
            KillAll();
            exits = slots.SelectMany(s => s.Runs()).Select(r => r.Process?.Exited ?? Task.CompletedTask).ToArray();
        }
        await Task.WhenAny(Task.WhenAll(exits), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);

        using (Gate())
        {
            foreach (var slot in slots)
            {
                foreach (var run in slot.Runs()) run.Process?.Dispose();
                if (slot.State is not (WorkerState.Failed or WorkerState.Exited)) SetWorker(slot, WorkerState.Stopped);
            }
            foreach (var listener in _bindings?.All ?? []) listener.Dispose();
            foreach (var listener in _earlierListeners) listener.Dispose();
            _stateDirectory?.Dispose();
            _stoppedAt = DateTimeOffset.Now;
            if (_failure is not null) SetState(HostState.Failed, _failure);
            else if (_state != HostState.Failed) SetState(HostState.Stopped, "");
        }
        // Behind the last state change and log lines: whoever sees the host complete has seen them.
        _events.Post(() => _completion.TrySetResult());
        _events.Deliver();
        // Another thread may be the one delivering: the stop is over when they are out.
        await _completion.Task.ConfigureAwait(false);
    }

    private async Task StopGroupAsync(IEnumerable<WorkerSlot> group, TimeSpan drain, DateTime deadline)
    {
        var waits = new List<Task>();
        using (Gate())
        {
            foreach (var slot in group)
            {
                // A successor still starting is told too; the runs a restart replaced are draining already.
                foreach (var run in slot.LiveRuns())
                {
                    if (!slot.Draining.Contains(run)) run.Process!.SendLine(LifelineCommands.Stop(drain));
                    waits.Add(run.Process!.Exited);
                }
                if (slot.Process is { Exited.IsCompleted: false }) SetWorker(slot, WorkerState.Stopping);
            }
        }
        var left = deadline - DateTime.UtcNow;
        if (waits.Count > 0 && left > TimeSpan.Zero)
            await Task.WhenAny(Task.WhenAll(waits), Task.Delay(left)).ConfigureAwait(false);
    }

    private void KillAll()
    {
        foreach (var slot in _slots)
            foreach (var run in slot.LiveRuns().ToArray())
                run.Process!.Kill();
    }

    public HostInfo Snapshot()
    {
        using (Gate())
        {
            return new HostInfo
            {
                Name = Name,
                Id = Id,
                HostId = Plan.HostId,
                State = _state,
                Service = Plan.Service,
                Protocol = Plan.Protocol,
                Mode = Plan.Mode,
                Url = _url,
                Transport = Plan.Transport,
                SocketDirectory = Plan.SocketDirectory,
                Respawn = Plan.Respawn,
                Generation = _generation,
                Workers = _slots.Select(s => s.Snapshot()).ToArray(),
                Runners = RunnerRows(),
                StartedAt = _startedAt,
                StoppedAt = _stoppedAt,
                Reason = _reason,
            };
        }
    }

    /// <summary>One row per runner of the plan: its live workers and their reports added up (call under the lock).</summary>
    private RunnerInfo[] RunnerRows()
    {
        var rows = new RunnerInfo[Plan.Runners.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var name = Plan.Runners[i].Name;
            var total = _removedStats.GetValueOrDefault(name, RunnerWorkerStats.Empty);
            var live = 0;
            foreach (var slot in _slots)
            {
                if (slot.Spec.Role != WorkerRole.Runner || !string.Equals(slot.Spec.Runner, name, StringComparison.Ordinal))
                    continue;
                if (slot.State == WorkerState.Running && !slot.Joining)
                    live++;
                total = total.Plus(slot.TotalStats());
            }
            rows[i] = new RunnerInfo
            {
                Name = name,
                Workers = live,
                Batchable = total.Batchable,
                Calls = total.Calls,
                Batches = total.Batches,
                Items = total.Items,
                MeanBatchSize = total.Batches == 0 ? 0 : Math.Round((double)total.Items / total.Batches, 2),
                P99QueueWaitMs = total.P99QueueWaitMs(),
                Shed = total.Shed,
                TimedOut = total.TimedOut,
                ReportedAt = total.ReportedAt == DateTimeOffset.MinValue ? null : total.ReportedAt,
            };
        }
        return rows;
    }

    // ---- starting --------------------------------------------------------------------------

    private void BindListeners()
    {
        var address = HostPlanner.ParseHostAddress(Plan.HostAddress);
        var api = WorkerSpecs.ApiWorkersBindThemselves(Plan)
            ? HostListeners.ReservePort(address, Plan.Port)
            : HostListeners.BindTcp(address, Plan.Port);
        var runners = new Dictionary<string, Listener>(StringComparer.Ordinal);
        // Set at once: a failure half way still leaves every socket bound so far to the stop that follows.
        _bindings = new HostBindings(api, runners);
        if (Plan.Port == 0)
        {
            var builder = new UriBuilder(Plan.Url) { Port = api.Port };
            _url = builder.Uri.GetLeftPart(UriPartial.Authority);
        }
        BindRunners(Plan, 1, runners);
    }

    /// <summary>Binds each runner's socket for a generation into <paramref name="runners"/> (development mode: none).</summary>
    private static void BindRunners(HostPlan plan, int generation, Dictionary<string, Listener> runners)
    {
        if (plan.Mode == ServingMode.Development) return;
        foreach (var runner in plan.Runners)
        {
            runners[runner.Name] = runner.Transport == RunnerTransport.Uds
                ? HostListeners.BindUnix(SocketPathPlanner.ForGeneration(runner.Endpoint, generation, plan.Platform.MaxUnixSocketPath))
                : HostListeners.BindTcp(IPAddress.Loopback, 0);
        }
    }

    /// <summary>Writes the host.json workers of <paramref name="plan"/> start from (a generation's own file; rewritten when scaling).</summary>
    private void WriteHostConfig(HostPlan plan, HostBindings bindings, string path)
    {
        var endpoints = new Dictionary<string, (RunnerTransport, string)>();
        if (plan.Mode == ServingMode.Production)
            foreach (var runner in plan.Runners)
                endpoints[runner.Name] = (runner.Transport, bindings.Runners[runner.Name].Endpoint);
        HostConfigWriter.Write(path, plan, Name, endpoints, _runnerWorkers, _secret, _options);
    }

    /// <summary>host.json for the first generation, host-N.json for the Nth: workers of two generations run side by side during a reload.</summary>
    private static string ConfigFileName(int generation) =>
        generation == 1 ? "host.json" : $"host-{generation.ToString(CultureInfo.InvariantCulture)}.json";

    private void CreateSlots(string configPath)
    {
        _configPath = configPath;
        _specContext = new WorkerSpecs.SpecContext(Plan, _bindings!, Name, _url, configPath,
            operatorSetGen0: Environment.GetEnvironmentVariable(WorkerSpecs.Gen0SizeVariable) is not null, windows: OperatingSystem.IsWindows());
        using (Gate())
            foreach (var spec in WorkerSpecs.Build(_specContext))
                _slots.Add(new WorkerSlot(spec, _options.RecentLines));
    }

    /// <summary>Starts (or restarts) the slot's process, which becomes its current one. Caller holds the lock.</summary>
    private void Spawn(WorkerSlot slot)
    {
        SetWorker(slot, WorkerState.Starting);
        var run = Launch(slot);
        slot.Current = run;
        Note(slot, $"started (pid {run.Pid})");
    }

    /// <summary>
    /// Starts one process for <paramref name="slot"/> from its spec and watches its exit; an API
    /// worker's process hears at once which runners are down. Caller holds the lock, so the process's
    /// first lines wait until the caller has put the run in its place.
    /// </summary>
    private WorkerRun Launch(WorkerSlot slot) => Launch(slot, slot.Spec, _generation);

    /// <summary>Starts a process for <paramref name="slot"/> from <paramref name="spec"/> (a reload's new generation brings new specs). Caller holds the lock.</summary>
    private WorkerRun Launch(WorkerSlot slot, WorkerSpec spec, int generation)
    {
        var run = new WorkerRun(this, slot, spec, generation);
        IWorkerProcess process;
        try
        {
            process = _launcher.Start(spec, run);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            throw new ServingException(ErrorIds.WorkerStartFailed, ServingErrorKind.InvalidOperation,
                $"Cannot start worker {slot.Name}: {e.Message}", slot.Name, e);
        }
        run.Process = process;
        run.Pid = process.Pid;
        run.StartedAt = DateTimeOffset.Now;
        if (spec.Role is WorkerRole.Api or WorkerRole.Dev) TellRunnerStates(process);
        var started = DateTime.UtcNow;
        _ = process.Exited.ContinueWith(t => OnExited(run, t.Result, DateTime.UtcNow - started),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return run;
    }

    /// <summary>
    /// A runner worker gone for good (respawn off): the supervisor's copy of its runner's socket would
    /// only keep it accepting into a void once no worker holds it; releasing it makes callers fail fast
    /// (connection refused). Kept until then: a restart on request (<see cref="RestartWorkerAsync"/>)
    /// hands it to the successor. The API socket is kept: a stop filters it before the workers close
    /// their copies, and a worker lost for good ends the host anyway. Caller holds the lock.
    /// </summary>
    private void ReleaseRunnerListener(WorkerSlot slot)
    {
        if (slot.Spec.Runner is { } runner && _bindings?.Runners.TryGetValue(runner, out var listener) == true)
            listener.Release();
    }

    // ---- watching ---------------------------------------------------------------------------

    internal void OnWorkerLine(WorkerRun run, string line, bool isError)
    {
        var slot = run.Slot;
        if (line.StartsWith(ControlPrefix, StringComparison.Ordinal))
        {
            if (line == ReadyEvent)
            {
                using (Gate())
                {
                    // A successor's ready only completes its own task: it takes over when the restart says so.
                    if (ReferenceEquals(slot.Current, run) && slot.State == WorkerState.Starting)
                    {
                        SetWorker(slot, WorkerState.Running);
                        UpdateState();
                    }
                }
                run.Ready.TrySetResult();
            }
            else if (line.StartsWith(StatsPrefix, StringComparison.Ordinal) && slot.Spec.Role == WorkerRole.Runner
                && RunnerWorkerStats.Parse(line[StatsPrefix.Length..], DateTimeOffset.Now) is { } stats)
            {
                using (Gate())
                    run.Stats = stats;
            }
            return;
        }
        Emit(slot, run.Pid, isError ? "stderr" : "stdout", line);
    }

    private void OnExited(WorkerRun run, int exitCode, TimeSpan uptime)
    {
        var slot = run.Slot;
        var process = run.Process!;
        using (Gate())
        {
            slot.Retire(run);
            if (!ReferenceEquals(slot.Current, run))
            {
                OnEarlierRunExited(slot, run, exitCode);
                return;
            }
            slot.LastExitCode = exitCode;
            if (slot.Retiring)
            {
                // Scaled down: RemoveSlotsAsync removes the slot and says so once every process of it is gone.
                Note(slot, $"drained and exited (code {exitCode}{Signal(exitCode)})");
                return;
            }
            if (_stopping)
            {
                slot.Restart?.TrySetResult(false);
                slot.Restart = null;
                Note(slot, $"stopped (exit code {exitCode})");
                SetWorker(slot, WorkerState.Stopped);
                return;
            }
            if (slot.Restart is { } restart)
            {
                // A planned exit: started again at once, nothing counted against it.
                slot.Restart = null;
                process.Dispose();
                Note(slot, $"drained and exited (code {exitCode}); starting it again");
                restart.TrySetResult(StartAgain(slot));
                return;
            }
            Note(slot, $"exited unexpectedly with code {exitCode}{Signal(exitCode)} after {uptime.TotalSeconds:0.#} s");
            if (SuccessorTakesOver(slot, run)) return;
            if (_startFailure is { } failure)
            {
                SetWorker(slot, WorkerState.Failed);
                failure.TrySetResult(slot);
                return;
            }
            process.Dispose();
            if (!Plan.Respawn)
            {
                var why = Plan.Platform.IsContainer
                    ? "inside a container the orchestrator restarts the host; -Respawn Always respawns workers instead"
                    : "respawn is off (-Respawn Never)";
                Note(slot, "not respawned: " + why);
                var reason = $"worker {slot.Name} exited with code {exitCode}{Signal(exitCode)} and is not respawned ({why})";
                // Said while the worker's log is still open: a finished worker takes no more lines.
                Note(slot, "the host ends: " + reason);
                ReleaseRunnerListener(slot);
                SetWorker(slot, WorkerState.Exited);
                FailHost(reason);
                return;
            }
            var next = _options.RespawnPolicy.Next(slot.FastCrashes, uptime);
            if (next is null)
            {
                Note(slot, $"crashed {_options.RespawnPolicy.MaxFastCrashes} times in a row within {_options.RespawnPolicy.StablePeriod.TotalSeconds:0} s of starting: given up (Failed)");
                SetWorker(slot, WorkerState.Failed);
                UpdateState();
                return;
            }
            var (delay, fast) = next.Value;
            slot.FastCrashes = fast;
            slot.RespawnDue = DateTime.UtcNow + delay;
            SetWorker(slot, WorkerState.Backoff);
            UpdateState();
            Note(slot, $"respawning in {delay.TotalMilliseconds:0} ms");
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
            slot.PendingRespawn = cancel;
            _ = RespawnLaterAsync(slot, delay, cancel);
        }
    }

    private async Task RespawnLaterAsync(WorkerSlot slot, TimeSpan delay, CancellationTokenSource cancel)
    {
        try
        {
            await Task.Delay(delay, cancel.Token).ConfigureAwait(false);
            using (Gate())
            {
                if (_stopping || cancel.IsCancellationRequested) return;
                StartAgain(slot);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            using (Gate())
            {
                if (ReferenceEquals(slot.PendingRespawn, cancel)) slot.PendingRespawn = null;
                cancel.Dispose();
            }
        }
    }

    /// <summary>
    /// Starts a slot's next process (a respawn after backoff, or a restart on request): Restarts + 1; a
    /// launch that fails leaves the slot Failed. False then. Caller holds the lock.
    /// </summary>
    private bool StartAgain(WorkerSlot slot)
    {
        slot.Restarts++;
        var started = true;
        try
        {
            Spawn(slot);
        }
        catch (ServingException e)
        {
            Note(slot, e.Message);
            SetWorker(slot, WorkerState.Failed);
            started = false;
        }
        UpdateState();
        return started;
    }

    private static string Signal(int exitCode) => exitCode switch
    {
        137 => " (SIGKILL)",
        143 => " (SIGTERM)",
        134 => " (SIGABRT)",
        139 => " (SIGSEGV)",
        _ => "",
    };

    private void Note(WorkerSlot slot, string message)
    {
        Emit(slot, slot.Pid, "supervisor", $"supervisor: {slot.Name} {message}");
    }

    private void Emit(WorkerSlot slot, int pid, string stream, string line)
    {
        slot.Remember(line);
        Raise(Log, new WorkerLogEntry
        {
            Time = DateTimeOffset.Now,
            Host = Name,
            Worker = slot.Name,
            Pid = pid,
            Stream = stream,
            Message = line,
        });
    }

    /// <summary>
    /// Raises an event after the lock is let go (<see cref="EventOutbox"/>), to the subscribers of the
    /// moment, so that a subscriber that throws cannot break supervision: the supervisor's own work
    /// (respawning, ending the host) must go on whatever a listener does with the news.
    /// </summary>
    private void Raise<T>(Action<T>? handlers, T value)
    {
        if (handlers is null) return;
        _events.Post(() =>
        {
            foreach (var handler in handlers.GetInvocationList())
            {
                try
                {
                    ((Action<T>)handler)(value);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    System.Diagnostics.Trace.TraceError($"A ServingHost event handler threw: {e}");
                }
            }
        });
        if (!Monitor.IsEntered(_gate)) _events.Deliver();
    }

    /// <summary>
    /// Takes the supervisor's lock; letting go of it (the outermost hold) raises the events posted
    /// meanwhile. Use as <c>using (Gate()) { … }</c> wherever state changes: never <c>lock</c>.
    /// </summary>
    private GateScope Gate()
    {
        Monitor.Enter(_gate);
        return new GateScope(this);
    }

    private readonly struct GateScope(ServingHost host) : IDisposable
    {
        public void Dispose()
        {
            Monitor.Exit(host._gate);
            if (!Monitor.IsEntered(host._gate)) host._events.Deliver();
        }
    }

    private void SetWorker(WorkerSlot slot, WorkerState state)
    {
        if (slot.State == state) return;
        slot.State = state;
        if (slot.Spec.Runner is { } runner) TellRunnerChange(runner);
        RaiseWorkerChanged(slot);
    }

    /// <summary>Tells subscribers the worker as it is now (its state, or its process: a successor took over). Caller holds the lock.</summary>
    private void RaiseWorkerChanged(WorkerSlot slot)
    {
        if (WorkerChanged is { } handlers) Raise(handlers, slot.Snapshot());
    }

    // ---- what API workers are told -----------------------------------------------------------

    /// <summary>
    /// When a runner goes from having a live worker to none (a crash before its respawn, given up,
    /// exited) and back, every API worker is told (lifeline <c>runner-down</c> / <c>runner-up</c>), so
    /// calls to it are answered 503 with Retry-After at once instead of waiting in the backlog of a
    /// socket nobody accepts on. Caller holds the lock.
    /// </summary>
    private void TellRunnerChange(string runner)
    {
        if (_stopping || Plan.Mode == ServingMode.Development) return;
        var live = RunnerIsLive(runner);
        if (_runnerLive.TryGetValue(runner, out var was) && was == live) return;
        _runnerLive[runner] = live;
        TellApiWorkers(live ? LifelineCommands.RunnerUp(runner) : LifelineCommands.RunnerDown(runner, _slots, Plan.Respawn, DateTime.UtcNow));
    }

    /// <summary>A newly started API worker hears which runners are down (it assumes the others up). Caller holds the lock.</summary>
    private void TellRunnerStates(IWorkerProcess api)
    {
        if (Plan.Mode == ServingMode.Development) return;
        foreach (var runner in Plan.Runners)
            if (!RunnerIsLive(runner.Name))
                api.SendLine(LifelineCommands.RunnerDown(runner.Name, _slots, Plan.Respawn, DateTime.UtcNow));
        if (_failure is not null) api.SendLine(LifelineCommands.Failing(_failure));
    }

    private bool RunnerIsLive(string runner)
    {
        foreach (var s in _slots)
            if (s.Spec.Runner == runner && s.State == WorkerState.Running) return true;
        return false;
    }

    /// <summary>Writes a lifeline line to every live process serving the API (api and dev roles; successors too). Caller holds the lock.</summary>
    private void TellApiWorkers(string line)
    {
        foreach (var slot in _slots)
            if (slot.Spec.Role is WorkerRole.Api or WorkerRole.Dev)
                foreach (var run in slot.LiveRuns())
                    run.Process!.SendLine(line);
    }

    /// <summary>
    /// The container rule made whole: a worker gone for good (respawn off) ends the host. API workers
    /// answer /livez 503 from now (lifeline <c>failing</c>), the rest stop gracefully within the
    /// host's stop timeout, and the host ends Failed with <paramref name="reason"/> — so
    /// Start-ServingHost -Wait ends with an error (pwsh exits non-zero) and the orchestrator restarts
    /// it. Caller holds the lock.
    /// </summary>
    private void FailHost(string reason)
    {
        if (_failure is not null || _stopping) return;
        _failure = reason;
        TellApiWorkers(LifelineCommands.Failing(reason));
        _ = StopAsync(_options.StopTimeout, force: false);
    }

    /// <summary>Running when every worker runs; Degraded (with the reason) otherwise (<see cref="HostHealth"/>). Caller holds the lock.</summary>
    private void UpdateState()
    {
        if (_stopping || _startFailure != null || _state is HostState.Failed) return;
        var (state, reason) = HostHealth.Evaluate(Plan.Runners, _slots.Where(s => !s.Retiring && !s.Joining).Select(s => s.Snapshot()).ToArray());
        SetState(state, reason);
    }

    private void SetState(HostState state, string reason)
    {
        _reason = reason;
        if (_state == state) return;
        _state = state;
        Raise(StateChanged, state);
    }

    // ---- cleanup ----------------------------------------------------------------------------

    public void Dispose()
    {
        if (!Completion.IsCompleted) StopAsync(TimeSpan.Zero, force: true).GetAwaiter().GetResult();
        _lifetime.Dispose();
    }
}
