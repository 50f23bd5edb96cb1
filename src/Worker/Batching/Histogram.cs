using System.Collections.Immutable;

namespace Serving.Worker.Batching;

/// <summary>
/// A snapshot of counts over <see cref="HistogramBuckets"/>: <see cref="Counts"/> has one entry per
/// bound plus the overflow bucket, each the number of values in that bucket alone (not cumulative).
/// Immutable; <see cref="Merge"/> adds two over the same buckets.
/// </summary>
internal sealed record Histogram(HistogramBuckets Buckets, ImmutableArray<long> Counts, long Count, double Sum)
{
    public static Histogram Empty(HistogramBuckets buckets) =>
        new(buckets, ImmutableArray.Create(new long[buckets.UpperBounds.Length + 1]), 0, 0);

    /// <summary>The mean of the values (0 when empty).</summary>
    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Bucket by bucket; both must use the same buckets.</summary>
    public Histogram Merge(Histogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Buckets != Buckets)
            throw new ArgumentException($"cannot merge histogram '{other.Buckets.Name}' into '{Buckets.Name}'", nameof(other));
        var counts = new long[Counts.Length];
        for (var i = 0; i < counts.Length; i++)
            counts[i] = Counts[i] + other.Counts[i];
        return new Histogram(Buckets, ImmutableArray.Create(counts), Count + other.Count, Sum + other.Sum);
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1) estimated as Prometheus's <c>histogram_quantile</c> does:
    /// linear within the bucket holding it, from 0 for the first bucket; the last finite bound when it
    /// falls into the overflow bucket; 0 when empty.
    /// </summary>
    public double Quantile(double quantile)
    {
        if (Count == 0)
            return 0;
        var rank = Math.Clamp(quantile, 0, 1) * Count;
        var bounds = Buckets.UpperBounds;
        long below = 0;
        for (var i = 0; i < Counts.Length; i++)
        {
            var inBucket = Counts[i];
            if (inBucket > 0 && below + inBucket >= rank)
            {
                if (i == bounds.Length)
                    return bounds[^1];
                var lower = i == 0 ? 0 : bounds[i - 1];
                return lower + (bounds[i] - lower) * ((rank - below) / inBucket);
            }
            below += inBucket;
        }
        return bounds[^1];
    }
}
