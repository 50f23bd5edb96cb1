namespace Serving.Runtime.Supervision;

/// <summary>A snapshot of one host.</summary>
public sealed class HostInfo
{
    public string Name { get; init; } = "";
    public int Id { get; init; }
    public string HostId { get; init; } = "";
    public HostState State { get; init; }
    public string Service { get; init; } = "";
    public ServingProtocol Protocol { get; init; }
    public ServingMode Mode { get; init; }
    public string Url { get; init; } = "";
    /// <summary>
    /// Where Prometheus scrapes the host's metrics (HTTP/1.1): -MetricsPort's URL, else the API's /metrics of an
    /// HTTP host; empty for a gRPC host without -MetricsPort (its /metrics answers over h2c only).
    /// </summary>
    public string MetricsUrl { get; init; } = "";
    public RunnerTransport Transport { get; init; }
    public string SocketDirectory { get; init; } = "";
    public bool Respawn { get; init; }
    /// <summary>1 at start, one more per reload (-Reload) that went through: the generation serving now.</summary>
    public int Generation { get; init; } = 1;
    public WorkerInfo[] Workers { get; init; } = Array.Empty<WorkerInfo>();
    /// <summary>One row per runner: live workers, calls, batches (see <see cref="RunnerInfo"/>).</summary>
    public RunnerInfo[] Runners { get; init; } = Array.Empty<RunnerInfo>();
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    /// <summary>Why the host is Degraded or Failed, in a sentence; empty otherwise.</summary>
    public string Reason { get; init; } = "";
}
