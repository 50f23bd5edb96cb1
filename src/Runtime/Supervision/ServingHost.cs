namespace Serving.Runtime.Supervision;

/// <summary>
/// The supervisor of one host: carries out a <see cref="HostPlan"/> — binds the listeners, writes
/// host.json, starts runner and API workers, watches them, respawns by the plan's policy, restarts,
/// scales and reloads them without a failed request, and stops them gracefully. The only code that
/// touches processes (through <see cref="IWorkerLauncher"/>). One file per job: this one holds the
/// state, the lock and the events; .Starting, .Watching, .Stopping, .Rolling (restart), .Scaling and
/// .Generations (reload) the rest. Pure parts live in their own types (WorkerSpecs, HostHealth,
/// LifelineCommands, RespawnPolicy, ReloadFilter, ReloadDebounce).
/// </summary>
public sealed partial class ServingHost : IDisposable
{
    /// <summary>How long past its drain timeout a worker may take to exit before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private readonly EventOutbox _events = new();
    private readonly IWorkerLauncher _launcher;
    private readonly HostOptions _options;
    private readonly List<WorkerSlot> _slots = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new();
    private HostBindings? _bindings;
    private HostStateDirectory? _stateDirectory;
    private HostMetricsFile? _metricsFile;
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
    private readonly LogRing _recentLog;

    public ServingHost(HostPlan plan, HostOptions options, IWorkerLauncher launcher, int id)
    {
        Plan = plan;
        _options = options;
        _recentLog = new LogRing(options.LogCapacity);
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

    /// <summary>Every line any worker writes, plus the supervisor's notes about workers (at or above <see cref="HostOptions.LogLevel"/>).</summary>
    public event Action<WorkerLogEntry>? Log;

    /// <summary>The same lines, the latest <see cref="HostOptions.LogCapacity"/> of them, kept for reading without taking them (Get-ServingLog).</summary>
    public LogRing RecentLog => _recentLog;

    /// <summary>How the host's workers write their lines (-LogFormat); -Wait writes every line so too.</summary>
    public LogFormat LogFormat => _options.LogFormat;

    /// <summary>The lowest level the host logs (-LogLevel).</summary>
    public LogLevel LogLevel => _options.LogLevel;

    /// <summary>
    /// A worker changed state (started, ready, exited, respawned, failed): the worker as it was at the
    /// change (events are raised after the supervisor lets go of its lock, when it may have moved on).
    /// </summary>
    public event Action<WorkerInfo>? WorkerChanged;

    /// <summary>The host changed state.</summary>
    public event Action<HostState>? StateChanged;

    private static string Tail(WorkerSlot slot)
    {
        var lines = slot.RecentLines();
        return lines.Length == 0 ? "  (no output)" : "  " + string.Join(Environment.NewLine + "  ", lines.TakeLast(15));
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
                MetricsUrl = Plan.MetricsPort is null && Plan.Protocol == ServingProtocol.Http ? _url + "/metrics" : Plan.MetricsUrl,
                Transport = Plan.Transport,
                SocketDirectory = Plan.SocketDirectory,
                Respawn = Plan.Respawn,
                Generation = _servingGeneration,
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
                // Known from the service before any worker reports (a report says the same once it comes).
                Batchable = Plan.Runners[i].Batchable || total.Batchable,
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

    // ---- state, log lines and events, under the lock -------------------------------------------

    /// <summary>The supervisor's note about a worker, in its log: Information, unless the worker failed (<paramref name="level"/>).</summary>
    private void Note(WorkerSlot slot, string message, LogLevel level = LogLevel.Information)
    {
        var line = $"supervisor: {slot.Name} {message}";
        Record(slot, line, new WorkerLogEntry
        {
            Time = DateTimeOffset.Now,
            Host = Name,
            Worker = slot.Name,
            Pid = slot.Pid,
            Stream = "supervisor",
            Event = "supervisor",
            Level = level,
            Message = line,
        });
    }

    /// <summary>
    /// A line of the host's log: the slot's recent lines keep it (as <paramref name="text"/>) whatever its level;
    /// at or above <see cref="HostOptions.LogLevel"/> it goes to <see cref="RecentLog"/> and <see cref="Log"/>.
    /// </summary>
    private void Record(WorkerSlot? slot, string text, WorkerLogEntry entry)
    {
        slot?.Remember(text);
        if (entry.Level < _options.LogLevel) return;
        _recentLog.Add(entry);
        Raise(Log, entry);
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
        MetricsChanged();
    }

    /// <summary>Rewrites the host's metrics file (host.prom) once the lock is let go. Caller holds the lock.</summary>
    private void MetricsChanged()
    {
        if (_metricsFile is { } file) _events.Post(file.Update);
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
        MetricsChanged();
    }

    // ---- cleanup ----------------------------------------------------------------------------

    public void Dispose()
    {
        if (!Completion.IsCompleted) StopAsync(TimeSpan.Zero, force: true).GetAwaiter().GetResult();
        _lifetime.Dispose();
    }
}
