using Xunit;

namespace Serving.Runtime.Tests;

public class HostActivityTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A scrape of one HTTP API and one runner, shaped as the workers write it.</summary>
    private static MetricsScrape Scrape(double seconds, double ok, double bad, (double Le, double Count)[] durations, double inFlight = 0,
        double calls = 0, double batches = 0, double items = 0, (double Le, double Count)[]? queueWaits = null, double shed = 0)
    {
        var lines = new List<string>
        {
            $"serving_request_total{{api=\"/classify\",protocol=\"http\",status=\"200\"}} {ok}",
            $"serving_request_total{{api=\"/classify\",protocol=\"http\",status=\"503\"}} {bad}",
            $"serving_request_in_progress{{api=\"/classify\",protocol=\"http\"}} {inFlight}",
            $"serving_request_in_progress{{api=\"/echo\",protocol=\"http\"}} 0",
            $"serving_request_duration_seconds_count{{api=\"/classify\",protocol=\"http\"}} {ok + bad}",
            $"serving_request_duration_seconds_sum{{api=\"/classify\",protocol=\"http\"}} {(ok + bad) * 0.01}",
            $"serving_runner_call_duration_seconds_count{{runner=\"classifier\"}} {calls}",
            $"serving_runner_call_duration_seconds_bucket{{runner=\"classifier\",le=\"+Inf\"}} {calls}",
            $"serving_runner_batch_size_count{{runner=\"classifier\"}} {batches}",
            $"serving_runner_batch_size_sum{{runner=\"classifier\"}} {items}",
            $"serving_runner_shed_total{{runner=\"classifier\"}} {shed}",
        };
        foreach (var (le, count) in durations)
            lines.Add($"serving_request_duration_seconds_bucket{{api=\"/classify\",protocol=\"http\",le=\"{(double.IsPositiveInfinity(le) ? "+Inf" : le.ToString(System.Globalization.CultureInfo.InvariantCulture))}\"}} {count}");
        foreach (var (le, count) in queueWaits ?? [])
            lines.Add($"serving_runner_queue_wait_seconds_bucket{{runner=\"classifier\",le=\"{(double.IsPositiveInfinity(le) ? "+Inf" : le.ToString(System.Globalization.CultureInfo.InvariantCulture))}\"}} {count}");
        return MetricsScrape.Parse(string.Join("\n", lines), T0.AddSeconds(seconds));
    }

    private static readonly double Inf = double.PositiveInfinity;

    [Fact]
    public void The_first_scrape_gives_totals_but_no_rates()
    {
        var activity = HostActivity.Between(null, Scrape(0, ok: 10, bad: 1, [(0.01, 11), (Inf, 11)], inFlight: 2, calls: 11, batches: 4, items: 10));
        var api = activity.Apis.Single(a => a.Api == "/classify");
        Assert.Equal(11, api.Requests);
        Assert.Equal(2, api.InProgress);
        Assert.Null(api.RequestsPerSecond);
        Assert.Null(api.ErrorShare);
        Assert.Null(api.P99Ms);
        var runner = Assert.Single(activity.Runners);
        Assert.Equal(2.5, runner.LifetimeMeanBatchSize);
        Assert.Null(runner.CallsPerSecond);
    }

    [Fact]
    public void An_api_without_requests_is_listed()
    {
        var activity = HostActivity.Between(null, Scrape(0, 0, 0, [(Inf, 0)]));
        Assert.Contains(activity.Apis, a => a.Api == "/echo" && a.Requests == 0);
    }

    [Fact]
    public void Rate_error_share_and_p99_are_over_the_interval_between_the_two_scrapes()
    {
        // Before: 100 answers, all fast. Then in 2 s: 40 more, 4 of them 503; 30 ≤ 10 ms, 10 in (10, 100] ms.
        var before = Scrape(0, ok: 100, bad: 0, [(0.01, 100), (0.1, 100), (Inf, 100)], calls: 100, batches: 50, items: 100,
            queueWaits: [(0.001, 100), (0.004, 100), (Inf, 100)]);
        var after = Scrape(2, ok: 136, bad: 4, [(0.01, 130), (0.1, 140), (Inf, 140)], calls: 140, batches: 60, items: 140,
            queueWaits: [(0.001, 100), (0.004, 140), (Inf, 140)], shed: 6);
        var activity = HostActivity.Between(before, after);

        var api = activity.Apis.Single(a => a.Api == "/classify");
        Assert.Equal(20, api.RequestsPerSecond);
        Assert.Equal(0.1, api.ErrorShare!.Value, 9);
        // Rank 0.99 × 40 = 39.6: in (10, 100] ms, 9.6 of its 10 → 10 + 90 × 0.96.
        Assert.Equal(10 + 90 * 0.96, api.P99Ms!.Value, 6);
        Assert.Equal(140, api.Requests);

        var runner = Assert.Single(activity.Runners);
        Assert.Equal(20, runner.CallsPerSecond);
        Assert.Equal(4, runner.MeanBatchSize);
        Assert.Equal(1 + 3 * (39.6 / 40), runner.QueueWaitP99Ms!.Value, 6);
        Assert.Equal(3, runner.ShedPerSecond);
        Assert.Equal(6, runner.Shed);
    }

    [Fact]
    public void A_quiet_interval_has_a_zero_rate_and_no_latency()
    {
        var s = Scrape(0, 5, 0, [(0.01, 5), (Inf, 5)]);
        var api = HostActivity.Between(s, Scrape(1, 5, 0, [(0.01, 5), (Inf, 5)])).Apis.Single(a => a.Api == "/classify");
        Assert.Equal(0, api.RequestsPerSecond);
        Assert.Null(api.ErrorShare);
        Assert.Null(api.P99Ms);
    }

    [Fact]
    public void A_counter_that_restarts_does_not_give_a_negative_rate()
    {
        // A new host on the same port: its counters start again from 0, here at 3.
        var before = Scrape(0, ok: 500, bad: 20, [(0.01, 520), (Inf, 520)], calls: 520, batches: 520, items: 520);
        var after = Scrape(1, ok: 3, bad: 0, [(0.01, 3), (Inf, 3)], calls: 3, batches: 3, items: 3);
        var activity = HostActivity.Between(before, after);
        var api = activity.Apis.Single(a => a.Api == "/classify");
        Assert.Equal(3, api.RequestsPerSecond);
        Assert.Equal(0, api.ErrorShare);
        Assert.True(api.P99Ms >= 0);
        var runner = Assert.Single(activity.Runners);
        Assert.Equal(3, runner.CallsPerSecond);
        Assert.Equal(1, runner.MeanBatchSize);
    }

    [Fact]
    public void A_status_seen_for_the_first_time_counts_in_full()
    {
        var before = MetricsScrape.Parse("serving_request_total{api=\"/a\",protocol=\"grpc\",status=\"OK\"} 10", T0);
        var after = MetricsScrape.Parse(
            "serving_request_total{api=\"/a\",protocol=\"grpc\",status=\"OK\"} 13\n" +
            "serving_request_total{api=\"/a\",protocol=\"grpc\",status=\"INVALID_ARGUMENT\"} 1", T0.AddSeconds(1));
        var api = Assert.Single(HostActivity.Between(before, after).Apis);
        Assert.Equal(4, api.RequestsPerSecond);
        Assert.Equal(0.25, api.ErrorShare);
    }

    [Theory]
    [InlineData("http", "200", false)]
    [InlineData("http", "204", false)]
    [InlineData("http", "400", true)]
    [InlineData("http", "503", true)]
    [InlineData("grpc", "OK", false)]
    [InlineData("grpc", "UNAVAILABLE", true)]
    public void Errors_are_answers_that_are_not_2xx_or_not_ok(string protocol, string status, bool error) =>
        Assert.Equal(error, HostActivity.IsError(protocol, status));
}
