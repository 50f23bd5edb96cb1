namespace Serving.Runtime.Watching;

/// <summary>
/// A quantile from cumulative histogram buckets, as Prometheus's <c>histogram_quantile</c> computes
/// it: find the bucket holding the rank and interpolate linearly inside it (the first bucket starts
/// at 0); a rank in the +Inf bucket gives the highest finite bound. Buckets that go down (a counter
/// reset between the two scrapes of a delta) are raised to the one below, as Prometheus does.
/// </summary>
public static class HistogramQuantile
{
    /// <returns>The quantile, or null when the histogram holds no observation (or has no +Inf bucket).</returns>
    public static double? Of(double quantile, IEnumerable<(double UpperBound, double Count)> buckets)
    {
        var sorted = buckets.OrderBy(b => b.UpperBound).ToList();
        if (sorted.Count == 0 || !double.IsPositiveInfinity(sorted[^1].UpperBound)) return null;
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Count < sorted[i - 1].Count) sorted[i] = (sorted[i].UpperBound, sorted[i - 1].Count);
        var total = sorted[^1].Count;
        if (!(total > 0)) return null;
        var rank = Math.Clamp(quantile, 0, 1) * total;
        var b = 0;
        while (b < sorted.Count - 1 && sorted[b].Count < rank) b++;
        if (b == sorted.Count - 1) return sorted.Count >= 2 ? sorted[^2].UpperBound : null;
        var upper = sorted[b].UpperBound;
        var (lower, below) = b == 0 ? (Math.Min(0, upper), 0.0) : (sorted[b - 1].UpperBound, sorted[b - 1].Count);
        var inBucket = sorted[b].Count - below;
        if (inBucket <= 0) return upper;
        return lower + (upper - lower) * ((rank - below) / inBucket);
    }
}
