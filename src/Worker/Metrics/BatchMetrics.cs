namespace Serving.Worker.Metrics;

/// <summary>A runner's batching in this worker: the size of each batch, each item's queue wait, items shed.</summary>
internal sealed class BatchMetrics
{
    private readonly HistogramCells? _size;
    private readonly HistogramCells? _wait;
    private readonly MetricCell _shed;

    public BatchMetrics(MetricSegment? segment, string labels)
    {
        if (segment is null)
            return;
        _size = segment.Histogram(MetricFamilies.BatchSize, labels);
        _wait = segment.Histogram(MetricFamilies.QueueWait, labels);
        _shed = segment.Cell(MetricFamilies.Shed, MetricSegmentLayout.ValueBucket, labels);
    }

    public static BatchMetrics None { get; } = new(null, "");

    public void Batch(int items) => _size?.Observe(items);

    public void QueueWait(double seconds) => _wait?.Observe(seconds);

    public void Shed(int items) => _shed.Add(items);
}
