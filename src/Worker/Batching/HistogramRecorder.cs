using System.Collections.Immutable;

namespace Serving.Worker.Batching;

/// <summary>Counts values into <see cref="HistogramBuckets"/>. Not thread-safe: its owner guards it.</summary>
internal sealed class HistogramRecorder(HistogramBuckets buckets)
{
    private readonly long[] _counts = new long[buckets.UpperBounds.Length + 1];
    private long _count;
    private double _sum;

    public void Record(double value)
    {
        _counts[buckets.IndexOf(value)]++;
        _count++;
        _sum += value;
    }

    public Histogram Snapshot() => new(buckets, ImmutableArray.Create(_counts), _count, _sum);
}
