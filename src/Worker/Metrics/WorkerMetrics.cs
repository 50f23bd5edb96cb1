namespace Serving.Worker.Metrics;

/// <summary>
/// This worker's instruments, over its segment; and, in API and development workers, the exporter that answers
/// <c>/metrics</c> for the whole host. Metrics that cannot be kept (the directory is not writable) are off —
/// one line says so — and serving goes on.
/// </summary>
internal sealed class WorkerMetrics : IDisposable
{
    private readonly MetricSegment? _segment;

    private WorkerMetrics(MetricSegment? segment, MetricsExporter? exporter)
    {
        _segment = segment;
        Exporter = exporter;
    }

    /// <summary>No segment, no exporter: every instrument ignores what it is told (tests, and a failed start of metrics).</summary>
    public static WorkerMetrics Off { get; } = new(null, null);

    /// <summary>The scrape's answer for the whole host (API and development workers); null in runner workers.</summary>
    public MetricsExporter? Exporter { get; }

    /// <summary>The segment's file, when metrics are on.</summary>
    public string? SegmentPath => _segment?.Path;

    /// <summary>Opens <paramref name="worker"/>'s segment in <paramref name="directory"/>; with <paramref name="export"/> also the exporter.</summary>
    public static WorkerMetrics Open(string directory, string worker, bool export, Action<string> warn)
    {
        try
        {
            return new WorkerMetrics(MetricSegment.Create(directory, worker), export ? new MetricsExporter(directory) : null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            warn($"metrics are off in {worker}: cannot create its segment in '{directory}': {ex.Message}");
            return export ? new WorkerMetrics(null, new MetricsExporter(directory)) : Off;
        }
    }

    public ApiMetrics Api(string route, string protocol) => new(_segment, route, protocol);

    /// <summary>The duration of this API worker's calls to <paramref name="runner"/>.</summary>
    public HistogramCells? RunnerCalls(string runner) =>
        _segment?.Histogram(MetricFamilies.RunnerCallDuration, RunnerLabel(runner));

    public BatchMetrics Batches(string runner) => new(_segment, RunnerLabel(runner));

    private static string RunnerLabel(string runner) => $"runner=\"{MetricsFiles.EscapeLabelValue(runner)}\"";

    public void Dispose()
    {
        Exporter?.Dispose();
        _segment?.Dispose();
    }
}
