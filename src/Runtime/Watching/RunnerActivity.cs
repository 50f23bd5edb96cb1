namespace Serving.Runtime.Watching;

/// <summary>
/// One runner as Watch-ServingHost shows it: the API workers' calls to it and its batches. Interval
/// figures are null until two scrapes exist, and null (quantiles, means) when nothing happened in it.
/// </summary>
public sealed record RunnerActivity
{
    public string Runner { get; init; } = "";
    /// <summary>Calls API workers made to it since the host started.</summary>
    public double Calls { get; init; }
    public double? CallsPerSecond { get; init; }
    /// <summary>The p99 of an API worker's call to the runner (the hop, retries included), in ms.</summary>
    public double? CallP99Ms { get; init; }
    /// <summary>Items per batch over the interval.</summary>
    public double? MeanBatchSize { get; init; }
    /// <summary>Items per batch since the host started; null before the first batch.</summary>
    public double? LifetimeMeanBatchSize { get; init; }
    /// <summary>The p99 of the time items waited in the batch queue, in ms.</summary>
    public double? QueueWaitP99Ms { get; init; }
    /// <summary>Items refused by a full queue since the host started.</summary>
    public double Shed { get; init; }
    public double? ShedPerSecond { get; init; }
}
