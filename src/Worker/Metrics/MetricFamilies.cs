namespace Serving.Worker.Metrics;

/// <summary>
/// Every metric the workers record, named after BentoML's defaults (<c>bentoml_service_request_total</c>,
/// <c>..._request_duration_seconds</c>, <c>..._request_in_progress</c>, <c>..._adaptive_batch_size</c>) with our
/// <c>serving_</c> prefix and the unit in the name. The host's own metrics (workers, restarts, generation)
/// come from the supervisor (docs/metrics.md).
/// </summary>
internal static class MetricFamilies
{
    /// <summary>Request latency buckets, in seconds: from 100 µs (an in-process call) to a minute (the default request timeout).</summary>
    private static readonly double[] LatencySeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Items per batch: 1, 2, 4, … 4096 (a batch holds at most 4096 items).</summary>
    private static readonly double[] BatchSizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

    /// <summary>An item's wait in a runner's batch queue, in seconds: 50 µs to 10 s.</summary>
    private static readonly double[] QueueWaitSeconds =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

    public static readonly MetricFamily Requests = new(1, "serving_request_total", MetricKind.Counter,
        "Requests answered, by API, protocol and status (HTTP status code, or gRPC status name).", []);

    public static readonly MetricFamily RequestDuration = new(2, "serving_request_duration_seconds", MetricKind.Histogram,
        "Time from a request's arrival in an API worker to its answer, by API and protocol.", LatencySeconds, 1e9);

    public static readonly MetricFamily RequestsInProgress = new(3, "serving_request_in_progress", MetricKind.Gauge,
        "Requests being handled now, by API and protocol.", []);

    public static readonly MetricFamily RunnerCallDuration = new(4, "serving_runner_call_duration_seconds", MetricKind.Histogram,
        "Time of an API worker's call to a runner worker (the runner hop, retries included), by runner.", LatencySeconds, 1e9);

    public static readonly MetricFamily BatchSize = new(5, "serving_runner_batch_size", MetricKind.Histogram,
        "Items in each batch a runner method was called with, by runner.", BatchSizes);

    public static readonly MetricFamily QueueWait = new(6, "serving_runner_queue_wait_seconds", MetricKind.Histogram,
        "Time an item waited in a runner's batch queue before its batch started, by runner.", QueueWaitSeconds, 1e9);

    public static readonly MetricFamily Shed = new(7, "serving_runner_shed_total", MetricKind.Counter,
        "Items refused by a runner's full batch queue (answered 503 with Retry-After), by runner.", []);

    /// <summary>All of them, in the order they are written out.</summary>
    public static readonly MetricFamily[] All = [Requests, RequestDuration, RequestsInProgress, RunnerCallDuration, BatchSize, QueueWait, Shed];

    /// <summary>The family stored under <paramref name="id"/>, or null (a record from an unknown build is skipped).</summary>
    public static MetricFamily? Find(int id)
    {
        foreach (var family in All)
        {
            if (family.Id == id)
                return family;
        }
        return null;
    }
}
