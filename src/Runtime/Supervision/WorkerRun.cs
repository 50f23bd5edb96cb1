namespace Serving.Runtime.Supervision;

/// <summary>
/// One process of a worker slot, from its start to its exit. A slot has one current run; during a
/// rolling restart also a successor (started, not yet ready) and the runs it replaced, still draining.
/// Each run receives its own process's lines, so a successor's "ready" and a draining run's last
/// reports are told apart. All mutation happens under the owning <see cref="ServingHost"/>'s lock.
/// </summary>
internal sealed class WorkerRun : IWorkerOutput
{
    private readonly ServingHost _host;

    public WorkerRun(ServingHost host, WorkerSlot slot, WorkerSpec spec, int generation)
    {
        _host = host;
        Slot = slot;
        Spec = spec;
        Generation = generation;
    }

    public WorkerSlot Slot { get; }

    /// <summary>What it was started from: its slot's spec, or a reload's new generation's spec for the slot.</summary>
    public WorkerSpec Spec { get; }

    /// <summary>The host generation it belongs to (1, then one more per reload).</summary>
    public int Generation { get; }

    /// <summary>Set once the launcher returned; lines may arrive before that (the run is the output first).</summary>
    public IWorkerProcess? Process { get; set; }

    public int Pid { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    /// <summary>Completes when this process printed "@@serving ready".</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when this process printed "@@serving not-accepting" (after a stop-accepting): its listening sockets are closed.</summary>
    public TaskCompletionSource NotAccepting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This process's latest report (<c>@@serving stats</c>); added to the slot's retired totals when it exits.</summary>
    public RunnerWorkerStats Stats { get; set; } = RunnerWorkerStats.Empty;

    // The level of the last line on each stream: a line starting with whitespace continues it (an exception's stack).
    // Each stream's lines arrive one at a time, in order.
    private LogLevel? _lastStdoutLevel, _lastStderrLevel;

    public LogLevel? LastLevel(bool isError) => isError ? _lastStderrLevel : _lastStdoutLevel;

    public void SetLastLevel(bool isError, LogLevel level)
    {
        if (isError) _lastStderrLevel = level;
        else _lastStdoutLevel = level;
    }

    public bool HasExited => Process is { Exited.IsCompleted: true };

    void IWorkerOutput.OnLine(string line, bool isError) => _host.OnWorkerLine(this, line, isError);
}
