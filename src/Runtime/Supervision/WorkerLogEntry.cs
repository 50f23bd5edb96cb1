namespace Serving.Runtime.Supervision;

/// <summary>One line a worker (or the supervisor about a worker) wrote.</summary>
public sealed class WorkerLogEntry
{
    public DateTimeOffset Time { get; init; }
    public string Host { get; init; } = "";
    public string Worker { get; init; } = "";
    public int Pid { get; init; }
    /// <summary>stdout, stderr, or supervisor (the supervisor's own note about the worker).</summary>
    public string Stream { get; init; } = "stdout";
    public string Message { get; init; } = "";

    public override string ToString() => $"[{Worker}] {Message}";
}
