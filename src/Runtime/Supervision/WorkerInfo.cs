namespace Serving.Runtime.Supervision;

/// <summary>A snapshot of one worker.</summary>
public sealed class WorkerInfo
{
    // When the snapshot was taken: Uptime is the process's age then.
    private readonly DateTimeOffset _takenAt = DateTimeOffset.UtcNow;

    public WorkerRole Role { get; init; }
    /// <summary>"api-1", "echo-2", "dev-1": the tag on its log lines.</summary>
    public string Name { get; init; } = "";
    /// <summary>The runner a runner worker hosts; empty for API workers.</summary>
    public string Runner { get; init; } = "";
    public int Index { get; init; }
    /// <summary>The current (or last) process id; 0 before the first start.</summary>
    public int Pid { get; init; }
    public WorkerState State { get; init; }
    public int Restarts { get; init; }
    public string Endpoint { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>How long its current process had been up when the snapshot was taken; null when no process of it is running.</summary>
    public TimeSpan? Uptime => StartedAt is { } started && State is WorkerState.Starting or WorkerState.Running or WorkerState.Stopping
        ? _takenAt - started
        : null;
    /// <summary>The exit code of the last process that exited, if any.</summary>
    public int? LastExitCode { get; init; }
    /// <summary>The host generation its current process belongs to (1, then one more per reload).</summary>
    public int Generation { get; init; }
}
