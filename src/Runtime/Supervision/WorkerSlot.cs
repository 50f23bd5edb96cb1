namespace Serving.Runtime.Supervision;

/// <summary>
/// One worker position of a host ("api-1", "echo-2"): the spec it is started from, its current
/// process (<see cref="WorkerRun"/>), its state and restart count. A respawned or replaced process
/// takes the same slot. All mutation happens under the owning <see cref="ServingHost"/>'s lock.
/// </summary>
public sealed class WorkerSlot
{
    private readonly Queue<string> _recent = new();
    private readonly int _recentLimit;

    internal WorkerSlot(WorkerSpec spec, int recentLimit)
    {
        Spec = spec;
        _recentLimit = recentLimit;
    }

    /// <summary>What the slot's processes start from: a reload's new generation replaces it.</summary>
    public WorkerSpec Spec { get; internal set; }
    public string Name => Spec.Name;
    public WorkerState State { get; internal set; } = WorkerState.Starting;
    public int Restarts { get; internal set; }
    /// <summary>The current (or last) process id; 0 before the first start.</summary>
    public int Pid => Current?.Pid ?? 0;
    public DateTimeOffset? StartedAt => Current?.StartedAt;
    public int? LastExitCode { get; internal set; }

    /// <summary>The process that serves for this slot (or last did).</summary>
    internal WorkerRun? Current { get; set; }
    internal IWorkerProcess? Process => Current?.Process;
    /// <summary>A rolling restart's new process, started and not yet ready; null otherwise.</summary>
    internal WorkerRun? Successor { get; set; }
    /// <summary>Processes this slot's successors replaced, draining until they exit.</summary>
    internal List<WorkerRun> Draining { get; } = new();
    /// <summary>Being removed (scaled down, or not in a reload's new generation): its exit is planned and ends the slot.</summary>
    internal bool Retiring { get; set; }
    /// <summary>New in a reload's generation that is still starting: not part of the host's health until the switch.</summary>
    internal bool Joining { get; set; }

    internal int FastCrashes { get; set; }
    internal CancellationTokenSource? PendingRespawn { get; set; }
    /// <summary>
    /// Asked to restart without overlap (<see cref="ServingHost.RestartWorkerAsync"/> where a successor
    /// cannot share the socket): its next exit is a planned one, and this completes when the supervisor
    /// has handled it — true when a successor was started.
    /// </summary>
    internal TaskCompletionSource<bool>? Restart { get; set; }
    /// <summary>When the pending respawn is due (meaningful in Backoff).</summary>
    internal DateTime RespawnDue { get; set; }
    /// <summary>Completes when the current process printed "@@serving ready".</summary>
    internal Task Ready => Current?.Ready.Task ?? Task.Delay(Timeout.Infinite);

    /// <summary>The last reports of this slot's processes that have exited, added up: totals survive a respawn.</summary>
    internal RunnerWorkerStats RetiredStats { get; private set; } = RunnerWorkerStats.Empty;

    /// <summary>Every process of this slot that has not exited: current, successor, draining.</summary>
    internal IEnumerable<WorkerRun> LiveRuns()
    {
        if (Current is { HasExited: false } current) yield return current;
        if (Successor is { HasExited: false } successor) yield return successor;
        foreach (var run in Draining)
            if (!run.HasExited) yield return run;
    }

    /// <summary>Every process of this slot the supervisor still holds.</summary>
    internal IEnumerable<WorkerRun> Runs()
    {
        if (Current is { } current) yield return current;
        if (Successor is { } successor) yield return successor;
        foreach (var run in Draining) yield return run;
    }

    /// <summary>The slot's counters: what exited processes reported plus the latest reports of the live ones.</summary>
    internal RunnerWorkerStats TotalStats()
    {
        var total = RetiredStats;
        foreach (var run in Runs()) total = total.Plus(run.Stats);
        return total;
    }

    /// <summary>A process exited: its counters are final (every line it wrote was read before its exit was seen).</summary>
    internal void Retire(WorkerRun run)
    {
        RetiredStats = RetiredStats.Plus(run.Stats);
        run.Stats = RunnerWorkerStats.Empty;
    }

    /// <summary>The last lines the worker wrote, oldest first.</summary>
    public string[] RecentLines()
    {
        lock (_recent) return _recent.ToArray();
    }

    internal void Remember(string line)
    {
        lock (_recent)
        {
            _recent.Enqueue(line);
            while (_recent.Count > _recentLimit) _recent.Dequeue();
        }
    }

    public WorkerInfo Snapshot() => new()
    {
        Role = Spec.Role,
        Name = Spec.Name,
        Runner = Spec.Runner ?? "",
        Index = Spec.Index,
        Pid = Pid,
        State = State,
        Restarts = Restarts,
        Endpoint = Spec.Endpoint,
        StartedAt = StartedAt,
        LastExitCode = LastExitCode,
        Generation = Current?.Generation ?? 0,
    };
}
