namespace Serving;

/// <summary>
/// One worker position of a host ("api-1", "echo-2"): the spec it is started from, its current
/// process, its state and restart count. A respawned process takes the same slot. All mutation
/// happens under the owning <see cref="ServingHost"/>'s lock.
/// </summary>
public sealed class WorkerSlot : IWorkerOutput
{
    private readonly ServingHost _host;
    private readonly Queue<string> _recent = new();
    private readonly int _recentLimit;

    internal WorkerSlot(ServingHost host, WorkerSpec spec, int recentLimit)
    {
        _host = host;
        Spec = spec;
        _recentLimit = recentLimit;
    }

    public WorkerSpec Spec { get; }
    public string Name => Spec.Name;
    public WorkerState State { get; internal set; } = WorkerState.Starting;
    public int Restarts { get; internal set; }
    public int Pid { get; internal set; }
    public DateTimeOffset? StartedAt { get; internal set; }
    public int? LastExitCode { get; internal set; }
    internal IWorkerProcess? Process { get; set; }
    internal int FastCrashes { get; set; }
    internal CancellationTokenSource? PendingRespawn { get; set; }
    /// <summary>
    /// Asked to restart (<see cref="ServingHost.RestartWorkerAsync"/>): its next exit is a planned one, and
    /// this completes when the supervisor has handled it — true when a successor was started.
    /// </summary>
    internal TaskCompletionSource<bool>? Restart { get; set; }
    /// <summary>When the pending respawn is due (meaningful in Backoff).</summary>
    internal DateTime RespawnDue { get; set; }
    /// <summary>Set once the worker printed "@@serving ready" after its latest start.</summary>
    internal TaskCompletionSource Ready { get; set; } = NewReady();

    /// <summary>A runner worker's latest report (<c>@@serving stats</c>) from its current process.</summary>
    internal RunnerWorkerStats Stats { get; set; } = RunnerWorkerStats.Empty;

    /// <summary>The last reports of this slot's earlier processes, added up: totals survive a respawn.</summary>
    internal RunnerWorkerStats RetiredStats { get; set; } = RunnerWorkerStats.Empty;

    /// <summary>The current process's counters are final: keep them and start afresh for the next process.</summary>
    internal void RetireStats()
    {
        RetiredStats = RetiredStats.Plus(Stats);
        Stats = RunnerWorkerStats.Empty;
    }

    internal static TaskCompletionSource NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

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

    void IWorkerOutput.OnLine(string line, bool isError) => _host.OnWorkerLine(this, line, isError);

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
    };
}
