using System.Globalization;
using System.Text;

namespace Serving.Worker.Metrics;

/// <summary>
/// Answers a scrape: every segment in the host's metrics directory — of every worker that ran since the host
/// started, the dead and the replaced included — added up series by series, in the Prometheus text format
/// (0.0.4), followed by the supervisor's own file (<see cref="MetricsFiles.HostFileName"/>: workers, restarts, generation).
/// Counters and histograms are summed over all segments, so totals never go backwards when a worker dies;
/// gauges only over the segments of live workers.
/// </summary>
internal sealed class MetricsExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly string _directory;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, MetricSegmentReader> _segments = new(StringComparer.Ordinal);

    public MetricsExporter(string directory) => _directory = directory;

    /// <summary>The exposition as it is now.</summary>
    public string Render()
    {
        lock (_gate)
        {
            var series = Collect();
            var text = new StringBuilder(4096);
            foreach (var family in MetricFamilies.All)
                WriteFamily(text, family, series);
            AppendHostFile(text);
            return text.ToString();
        }
    }

    /// <summary>Sums of every series: a plain value, or a histogram's per-bucket counts and its sum.</summary>
    private Dictionary<(int Family, string Labels), long[]> Collect()
    {
        OpenNewSegments();
        var sums = new Dictionary<(int, string), long[]>();
        foreach (var segment in _segments.Values)
        {
            var alive = segment.WriterIsAlive();
            segment.Read((familyId, bucket, labels, value) =>
            {
                if (MetricFamilies.Find(familyId) is not { } family || (family.Kind == MetricKind.Gauge && !alive))
                    return;
                // Plain values in slot 0; a histogram's buckets in 0..n, its sum in n+1.
                var slots = family.Kind == MetricKind.Histogram ? family.HistogramRecords : 1;
                var index = family.Kind == MetricKind.Histogram ? bucket : 0;
                if (index < 0 || index >= slots)
                    return;
                if (!sums.TryGetValue((familyId, labels), out var values))
                    sums[(familyId, labels)] = values = new long[slots];
                values[index] += value;
            });
        }
        return sums;
    }

    private void OpenNewSegments()
    {
        string[] files;
        try
        {
            files = Directory.GetFiles(_directory, "*" + MetricSegmentLayout.Extension);
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }
        foreach (var file in files)
        {
            if (_segments.ContainsKey(file))
                continue;
            // Not a segment yet (its writer is still writing the header): the next scrape takes it.
            if (MetricSegmentReader.Open(file) is { } reader)
                _segments[file] = reader;
        }
    }

    private static void WriteFamily(StringBuilder text, MetricFamily family, Dictionary<(int Family, string Labels), long[]> sums)
    {
        var rows = sums.Where(s => s.Key.Family == family.Id).OrderBy(s => s.Key.Labels, StringComparer.Ordinal).ToList();
        text.Append("# HELP ").Append(family.Name).Append(' ').Append(family.Help).Append('\n');
        text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Kind switch
        {
            MetricKind.Counter => "counter",
            MetricKind.Gauge => "gauge",
            _ => "histogram",
        }).Append('\n');
        foreach (var ((_, labels), values) in rows)
        {
            if (family.Kind != MetricKind.Histogram)
            {
                Sample(text, family.Name, labels, null, values[0].ToString(CultureInfo.InvariantCulture));
                continue;
            }
            long cumulative = 0;
            for (var i = 0; i <= family.UpperBounds.Length; i++)
            {
                cumulative += values[i];
                var le = i < family.UpperBounds.Length ? Number(family.UpperBounds[i]) : "+Inf";
                Sample(text, family.Name + "_bucket", labels, "le=\"" + le + "\"", cumulative.ToString(CultureInfo.InvariantCulture));
            }
            Sample(text, family.Name + "_sum", labels, null, Number(values[^1] / family.Scale));
            Sample(text, family.Name + "_count", labels, null, cumulative.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void Sample(StringBuilder text, string name, string labels, string? extra, string value)
    {
        text.Append(name);
        if (labels.Length > 0 || extra is not null)
        {
            text.Append('{').Append(labels);
            if (extra is not null)
                text.Append(labels.Length > 0 ? "," : "").Append(extra);
            text.Append('}');
        }
        text.Append(' ').Append(value).Append('\n');
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private void AppendHostFile(StringBuilder text)
    {
        try
        {
            text.Append(File.ReadAllText(Path.Combine(_directory, MetricsFiles.HostFileName)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // No supervisor file (a worker started by hand, or the host is just starting): the workers' metrics only.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var segment in _segments.Values)
                segment.Dispose();
            _segments.Clear();
        }
    }
}
