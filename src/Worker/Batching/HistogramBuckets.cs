using System.Collections.Immutable;

namespace Serving.Worker.Batching;

/// <summary>
/// A fixed set of log-spaced bucket upper bounds. Histograms over the same buckets add up bucket by
/// bucket, so those of every worker merge into one (the supervisor's, Prometheus's <c>le</c> buckets).
/// The bounds are part of the contract: change them only together with every reader.
/// </summary>
internal sealed class HistogramBuckets
{
    private HistogramBuckets(string name, ImmutableArray<double> upperBounds)
    {
        Name = name;
        UpperBounds = upperBounds;
    }

    /// <summary>Items per batch: 1, 2, 4, … 4096 (a batch holds at most 4096 items).</summary>
    public static HistogramBuckets BatchSize { get; } = new("batch-size", Powers(1, 2, 13));

    /// <summary>
    /// Milliseconds from enqueue to the start of the item's batch: 0.1 · √2^k for k = 0 … 39
    /// (0.1 ms to about 52 s), two buckets per doubling, so a quantile read from them is within ±19 %.
    /// </summary>
    public static HistogramBuckets QueueWaitMs { get; } = new("queue-wait-ms", Powers(0.1, Math.Sqrt(2), 40));

    /// <summary>Names the layout (for a reader checking it merges like with like).</summary>
    public string Name { get; }

    /// <summary>Inclusive upper bounds, ascending; a value above the last falls into the overflow bucket (+Inf).</summary>
    public ImmutableArray<double> UpperBounds { get; }

    /// <summary>The bucket of <paramref name="value"/>: the first whose bound is ≥ it; <c>UpperBounds.Length</c> for overflow.</summary>
    public int IndexOf(double value)
    {
        var bounds = UpperBounds.AsSpan();
        var index = bounds.BinarySearch(value);
        return index >= 0 ? index : ~index;
    }

    private static ImmutableArray<double> Powers(double first, double factor, int count)
    {
        var bounds = ImmutableArray.CreateBuilder<double>(count);
        for (var k = 0; k < count; k++)
            bounds.Add(Math.Round(first * Math.Pow(factor, k), 6));
        return bounds.MoveToImmutable();
    }
}
