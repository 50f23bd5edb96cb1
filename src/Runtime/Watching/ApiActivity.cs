namespace Serving.Runtime.Watching;

/// <summary>
/// One API (route and protocol) as Watch-ServingHost shows it. The per-second figures are over the
/// last interval between two scrapes, null until there are two, and null (p99, mean) when no request
/// was answered in it.
/// </summary>
public sealed record ApiActivity
{
    public string Api { get; init; } = "";
    /// <summary>"http" or "grpc", as the metrics label it.</summary>
    public string Protocol { get; init; } = "";
    /// <summary>Requests answered since the host started (every worker, dead ones included).</summary>
    public double Requests { get; init; }
    public double? RequestsPerSecond { get; init; }
    /// <summary>The share (0–1) of the interval's answers that were not 2xx (HTTP) or not OK (gRPC).</summary>
    public double? ErrorShare { get; init; }
    public double? P50Ms { get; init; }
    public double? P99Ms { get; init; }
    public double? MeanMs { get; init; }
    /// <summary>Requests being handled at the last scrape.</summary>
    public double InProgress { get; init; }
}
