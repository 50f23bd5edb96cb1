namespace Serving.Runtime.Supervision;

/// <summary>A snapshot of one host.</summary>
public sealed class HostInfo
{
    // When the snapshot was taken: Uptime is the host's age then, not whenever it is read.
    private readonly DateTimeOffset _takenAt = DateTimeOffset.UtcNow;

    public string Name { get; init; } = "";
    /// <summary>
    /// The host's number in this session, which is also its job's Id: Get-ServingHost -Id, Stop-Job -Id, Receive-Job -Id
    /// and Wait-Job -Id all take it.
    /// </summary>
    public int Id { get; init; }
    /// <summary>The host's id on this machine (its socket directory's name, SERVING_HOST_ID of its workers).</summary>
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
    /// <summary>When the host became ready: every worker of its first generation had reported ready. Null before.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    /// <summary>Why the host is Degraded or Failed, in a sentence; empty otherwise.</summary>
    public string Reason { get; init; } = "";

    /// <summary>
    /// The HTTP version the API port speaks: 1.1 for an HTTP host; 2.0 for a gRPC host, whose port
    /// (/metrics and the probes included) answers only HTTP/2 with prior knowledge — no HTTP/1.1, no
    /// upgrade, no TLS (curl --http2-prior-knowledge; HttpClient with Version 2.0 and RequestVersionExact).
    /// <see cref="Url"/> stays <c>http://</c> for both protocols: that is the address HttpClient and
    /// GrpcChannel.ForAddress take for a cleartext host; this says which HTTP to speak to it.
    /// </summary>
    public Version HttpVersion => Protocol == ServingProtocol.Grpc ? new Version(2, 0) : new Version(1, 1);

    /// <summary>How long the host had been up (since it became ready) when the snapshot was taken (until it stopped, if it has); null before it was ready.</summary>
    public TimeSpan? Uptime => StartedAt is { } started ? (StoppedAt ?? _takenAt) - started : null;

    /// <summary>
    /// The Id of the PowerShell job (ServingHostJob) of this host in the session that asked, for Get-Job, Receive-Job
    /// and Wait-Job. It equals <see cref="Id"/>: the job is made first and the host takes its Id. Null when the job is
    /// not in that session's job repository (removed with Remove-Job, or asked from another runspace); kept so
    /// scripts and views that read it go on working.
    /// </summary>
    public int? JobId { get; private set; }

    /// <summary>This snapshot with <see cref="JobId"/> set: the runtime knows no jobs, the cmdlets do.</summary>
    public HostInfo WithJobId(int? jobId)
    {
        var copy = (HostInfo)MemberwiseClone();
        copy.JobId = jobId;
        return copy;
    }
}
