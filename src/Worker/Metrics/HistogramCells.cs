namespace Serving.Worker.Metrics;

/// <summary>A histogram series in a segment: one cell per bucket (counts of that bucket alone) and its sum.</summary>
internal sealed class HistogramCells
{
    private readonly MetricFamily _family;
    private readonly MetricCell[] _buckets;
    private readonly MetricCell _sum;

    public HistogramCells(MetricFamily family, MetricCell[] buckets, MetricCell sum)
    {
        _family = family;
        _buckets = buckets;
        _sum = sum;
    }

    /// <summary>Records one value: two atomic adds (its bucket, the sum).</summary>
    public void Observe(double value)
    {
        var bounds = _family.UpperBounds.AsSpan();
        var index = bounds.BinarySearch(value);
        _buckets[index >= 0 ? index : ~index].Increment();
        _sum.Add((long)Math.Round(value * _family.Scale));
    }

    /// <summary>Records a time measured with <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, in seconds.</summary>
    public void ObserveSince(long startTimestamp) =>
        Observe(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
}
