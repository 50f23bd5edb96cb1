namespace Serving.Runtime.Watching;

/// <summary>Everything one refresh shows about one host; <see cref="WatchLayout"/> lays it out.</summary>
public sealed record HostWatchView
{
    public required HostInfo Host { get; init; }

    /// <summary>CPU and memory by pid, for the workers (and the supervisor) that could be read.</summary>
    public IReadOnlyDictionary<int, ProcessUsage> Usage { get; init; } = new Dictionary<int, ProcessUsage>();

    /// <summary>The supervisor's process (this pwsh), shown above the workers; 0 to leave it out.</summary>
    public int SupervisorPid { get; init; }

    /// <summary>From the latest scrape of <c>/metrics</c>; null before the first one answered.</summary>
    public HostActivity? Activity { get; init; }

    /// <summary>Why the latest scrape failed; null when it answered.</summary>
    public string? MetricsError { get; init; }
}
