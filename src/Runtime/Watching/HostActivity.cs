namespace Serving.Runtime.Watching;

/// <summary>
/// What a host's <c>/metrics</c> says about its APIs and runners: totals from the latest scrape, rates,
/// error share and quantiles over the interval since the one before (see <see cref="ScrapeInterval"/>).
/// </summary>
public sealed class HostActivity
{
    public const string RequestTotal = "serving_request_total";
    public const string RequestDuration = "serving_request_duration_seconds";
    public const string RequestInProgress = "serving_request_in_progress";
    public const string RunnerCallDuration = "serving_runner_call_duration_seconds";
    public const string RunnerBatchSize = "serving_runner_batch_size";
    public const string RunnerQueueWait = "serving_runner_queue_wait_seconds";
    public const string RunnerShed = "serving_runner_shed_total";

    public IReadOnlyList<ApiActivity> Apis { get; init; } = Array.Empty<ApiActivity>();
    public IReadOnlyList<RunnerActivity> Runners { get; init; } = Array.Empty<RunnerActivity>();

    /// <summary>Whether an HTTP status or gRPC status name counts as an error (not 2xx, not OK).</summary>
    public static bool IsError(string protocol, string status) =>
        string.Equals(protocol, "grpc", StringComparison.OrdinalIgnoreCase)
            ? !string.Equals(status, "OK", StringComparison.Ordinal)
            : !(status.Length == 3 && status[0] == '2');

    /// <param name="previous">The scrape before <paramref name="current"/>; null for the first (no rates yet).</param>
    public static HostActivity Between(MetricsScrape? previous, MetricsScrape current)
    {
        var interval = previous is null ? null : new ScrapeInterval(previous, current);
        return new HostActivity { Apis = ReadApis(current, interval), Runners = ReadRunners(current, interval) };
    }

    private static ApiActivity[] ReadApis(MetricsScrape current, ScrapeInterval? interval)
    {
        // Every API the host reports: some families list an API before it has its first request.
        var keys = current.Samples(RequestTotal)
            .Concat(current.Samples(RequestDuration + "_count"))
            .Concat(current.Samples(RequestInProgress))
            .Select(s => (Api: s.Label("api"), Protocol: s.Label("protocol")))
            .Distinct()
            .OrderBy(k => k.Api, StringComparer.Ordinal).ThenBy(k => k.Protocol, StringComparer.Ordinal);
        var rows = new List<ApiActivity>();
        foreach (var (api, protocol) in keys)
        {
            bool Of(MetricSample s) => s.Label("api") == api && s.Label("protocol") == protocol;
            var row = new ApiActivity
            {
                Api = api,
                Protocol = protocol,
                Requests = current.Samples(RequestTotal).Where(Of).Sum(s => s.Value),
                InProgress = current.Samples(RequestInProgress).Where(Of).Sum(s => s.Value),
            };
            if (interval is not null)
            {
                var answered = interval.Increase(RequestTotal, Of);
                var errors = interval.Increase(RequestTotal, s => Of(s) && IsError(protocol, s.Label("status")));
                row = row with
                {
                    RequestsPerSecond = interval.Seconds > 0 ? answered / interval.Seconds : null,
                    ErrorShare = answered > 0 ? errors / answered : null,
                    P50Ms = Milliseconds(interval.Quantile(0.5, RequestDuration, Of)),
                    P99Ms = Milliseconds(interval.Quantile(0.99, RequestDuration, Of)),
                    MeanMs = Milliseconds(interval.Mean(RequestDuration, Of)),
                };
            }
            rows.Add(row);
        }
        return rows.ToArray();
    }

    private static RunnerActivity[] ReadRunners(MetricsScrape current, ScrapeInterval? interval)
    {
        var names = current.Samples(RunnerCallDuration + "_count")
            .Concat(current.Samples(RunnerBatchSize + "_count"))
            .Concat(current.Samples(RunnerShed))
            .Select(s => s.Label("runner"))
            .Distinct()
            .OrderBy(n => n, StringComparer.Ordinal);
        var rows = new List<RunnerActivity>();
        foreach (var runner in names)
        {
            bool Of(MetricSample s) => s.Label("runner") == runner;
            var batches = current.Samples(RunnerBatchSize + "_count").Where(Of).Sum(s => s.Value);
            var row = new RunnerActivity
            {
                Runner = runner,
                Calls = current.Samples(RunnerCallDuration + "_count").Where(Of).Sum(s => s.Value),
                LifetimeMeanBatchSize = batches > 0 ? current.Samples(RunnerBatchSize + "_sum").Where(Of).Sum(s => s.Value) / batches : null,
                Shed = current.Samples(RunnerShed).Where(Of).Sum(s => s.Value),
            };
            if (interval is not null)
            {
                row = row with
                {
                    CallsPerSecond = interval.Seconds > 0 ? interval.Rate(RunnerCallDuration + "_count", Of) : null,
                    CallP99Ms = Milliseconds(interval.Quantile(0.99, RunnerCallDuration, Of)),
                    MeanBatchSize = interval.Mean(RunnerBatchSize, Of),
                    QueueWaitP99Ms = Milliseconds(interval.Quantile(0.99, RunnerQueueWait, Of)),
                    ShedPerSecond = interval.Seconds > 0 ? interval.Rate(RunnerShed, Of) : null,
                };
            }
            rows.Add(row);
        }
        return rows.ToArray();
    }

    private static double? Milliseconds(double? seconds) => seconds * 1000;
}
