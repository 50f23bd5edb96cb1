namespace Serving.Runtime.Watching;

/// <summary>
/// What happened between two scrapes of one host: counter increases and histogram deltas. A counter
/// that went down was reset (a new host on the same port, say): its increase is its new value, as
/// Prometheus's <c>rate()</c> counts it, so a rate is never negative. A series absent from the
/// earlier scrape started at 0 (a status seen for the first time).
/// </summary>
public sealed class ScrapeInterval
{
    private readonly Dictionary<string, double> _previous = new(StringComparer.Ordinal);

    public ScrapeInterval(MetricsScrape previous, MetricsScrape current)
    {
        Previous = previous;
        Current = current;
        Seconds = (current.TakenAt - previous.TakenAt).TotalSeconds;
        foreach (var sample in previous.All) _previous[sample.Key] = sample.Value;
    }

    public MetricsScrape Previous { get; }
    public MetricsScrape Current { get; }

    /// <summary>Seconds between the two scrapes.</summary>
    public double Seconds { get; }

    /// <summary>How much one series (a sample of <see cref="Current"/>) grew since <see cref="Previous"/>.</summary>
    public double Increase(MetricSample sample)
    {
        if (double.IsNaN(sample.Value)) return 0;
        var before = _previous.GetValueOrDefault(sample.Key);
        return sample.Value >= before ? sample.Value - before : sample.Value;
    }

    /// <summary>The summed increase of every series named <paramref name="name"/> that <paramref name="match"/> selects.</summary>
    public double Increase(string name, Func<MetricSample, bool> match) =>
        Current.Samples(name).Where(match).Sum(Increase);

    /// <summary>Increase per second; 0 when the scrapes are no time apart.</summary>
    public double Rate(string name, Func<MetricSample, bool> match) =>
        Seconds > 0 ? Increase(name, match) / Seconds : 0;

    /// <summary>
    /// A quantile of what a histogram family observed between the scrapes, over the series
    /// <paramref name="match"/> selects (their buckets added up by bound); null when nothing was observed.
    /// </summary>
    public double? Quantile(double quantile, string family, Func<MetricSample, bool> match)
    {
        var buckets = new Dictionary<double, double>();
        foreach (var sample in Current.Samples(family + "_bucket"))
        {
            if (!match(sample) || !MetricsScrape.TryParseValue(sample.Label("le"), out var bound)) continue;
            buckets[bound] = buckets.GetValueOrDefault(bound) + Increase(sample);
        }
        return HistogramQuantile.Of(quantile, buckets.Select(b => (b.Key, b.Value)));
    }

    /// <summary>A histogram family's mean observation between the scrapes (Δsum ÷ Δcount); null when nothing was observed.</summary>
    public double? Mean(string family, Func<MetricSample, bool> match)
    {
        var count = Increase(family + "_count", match);
        return count > 0 ? Increase(family + "_sum", match) / count : null;
    }
}
