namespace Serving.Runtime.Supervision;

/// <summary>
/// One runner of a host as <c>Get-ServingHost</c> shows it (its <c>Runners</c> property): live
/// workers and what their calls and batches did, summed over every worker the runner has had —
/// totals do not go backwards when a worker dies and is respawned.
/// </summary>
public sealed class RunnerInfo
{
    public string Name { get; init; } = "";

    /// <summary>Workers of this runner now running.</summary>
    public int Workers { get; init; }

    /// <summary>Whether any of the runner's methods takes batches ([RunnerMethod(Batchable = true)]).</summary>
    public bool Batchable { get; init; }

    /// <summary>Calls the runner's workers received (a call is one request, or one <c>instances</c> request).</summary>
    public long Calls { get; init; }

    /// <summary>Model calls made by batch dispatchers.</summary>
    public long Batches { get; init; }

    /// <summary>Items those batches carried.</summary>
    public long Items { get; init; }

    /// <summary><see cref="Items"/> ÷ <see cref="Batches"/> (0 before the first batch).</summary>
    public double MeanBatchSize { get; init; }

    /// <summary>The 99th percentile of the time items waited in a batch queue, in ms (from merged histograms: an upper bound of the bucket).</summary>
    public double P99QueueWaitMs { get; init; }

    /// <summary>Items refused at once because a batch queue was full (503 Overloaded).</summary>
    public long Shed { get; init; }

    /// <summary>Items whose deadline passed while they waited in a queue.</summary>
    public long TimedOut { get; init; }

    /// <summary>When the workers last reported (they do once a second while something changes).</summary>
    public DateTimeOffset? ReportedAt { get; init; }
}
