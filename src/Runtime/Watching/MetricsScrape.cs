using System.Globalization;
using System.Text;

namespace Serving.Runtime.Watching;

/// <summary>
/// One scrape of a host's <c>/metrics</c> (Prometheus text format 0.0.4) and when it was taken:
/// the samples by family name. Comments, blank lines and lines that do not parse are skipped, so a
/// family added later never breaks an older reader.
/// </summary>
public sealed class MetricsScrape
{
    private readonly Dictionary<string, List<MetricSample>> _byName;

    private MetricsScrape(DateTimeOffset takenAt, Dictionary<string, List<MetricSample>> byName)
    {
        TakenAt = takenAt;
        _byName = byName;
    }

    /// <summary>When the answer arrived.</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>The samples named exactly <paramref name="name"/> (for a histogram: <c>x_bucket</c>, <c>x_sum</c>, <c>x_count</c>).</summary>
    public IReadOnlyList<MetricSample> Samples(string name) =>
        _byName.TryGetValue(name, out var list) ? list : Array.Empty<MetricSample>();

    /// <summary>Every sample of the scrape.</summary>
    public IEnumerable<MetricSample> All => _byName.Values.SelectMany(list => list);

    public static MetricsScrape Parse(string text, DateTimeOffset takenAt)
    {
        var byName = new Dictionary<string, List<MetricSample>>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            if (TryParseLine(line, out var sample))
            {
                if (!byName.TryGetValue(sample.Name, out var list)) byName[sample.Name] = list = new List<MetricSample>();
                list.Add(sample);
            }
        }
        return new MetricsScrape(takenAt, byName);
    }

    private static bool TryParseLine(string line, out MetricSample sample)
    {
        sample = null!;
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ' && line[i] != '\t') i++;
        var name = line[..i];
        if (name.Length == 0) return false;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == ',')) i++;
                if (i >= line.Length) return false;
                if (line[i] == '}') { i++; break; }
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"') return false;
                var labelName = line[i..eq].Trim();
                i = eq + 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) return false;
                    var c = line[i++];
                    if (c == '"') break;
                    if (c == '\\' && i < line.Length)
                    {
                        var escaped = line[i++];
                        value.Append(escaped == 'n' ? '\n' : escaped);
                    }
                    else value.Append(c);
                }
                labels[labelName] = value.ToString();
            }
        }
        // The value, then an optional timestamp we do not need.
        var rest = line[i..].Trim();
        var space = rest.IndexOfAny(new[] { ' ', '\t' });
        if (space >= 0) rest = rest[..space];
        if (!TryParseValue(rest, out var number)) return false;
        sample = new MetricSample(name, labels, number);
        return true;
    }

    internal static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf": case "Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            case "NaN": value = double.NaN; return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
