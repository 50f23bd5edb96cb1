namespace Serving.Runtime.Watching;

/// <summary>One line of a Prometheus text scrape: a series (name and labels) and its value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The label's value, or "" when the series has no such label (Prometheus treats both alike).</summary>
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";

    /// <summary>Name and labels in a fixed order: the same series in two scrapes has the same key.</summary>
    public string Key { get; } = Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
}
