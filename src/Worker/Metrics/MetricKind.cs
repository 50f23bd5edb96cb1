namespace Serving.Worker.Metrics;

/// <summary>How a family's series add up across workers and how they are written out.</summary>
internal enum MetricKind
{
    /// <summary>Only goes up; summed over every worker that ever ran in the host, dead ones included.</summary>
    Counter,

    /// <summary>A level (requests in flight); summed over live workers only: a dead worker holds nothing.</summary>
    Gauge,

    /// <summary>Bucket counts and a sum, each summed like a counter; written cumulative, as Prometheus wants.</summary>
    Histogram,
}
