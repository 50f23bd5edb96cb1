using Serving.Worker.Batching;

namespace Serving.Worker.Tests;

/// <summary>The pure parts of adaptive batching: the wait rule, the cost fit, the arrival rate, the histograms.</summary>
public class BatchingPolicyTests
{
    private const double Ms = 0.001;

    [Fact]
    public void One_client_calling_in_turn_never_waits()
    {
        // λ ≤ 1/(a + b): one request per call at best.
        var perItem = 0.1 * Ms;
        var perCall = 5 * Ms;
        var rate = 1 / (perItem + perCall);
        Assert.Equal(0, BatchWaitPolicy.WaitSeconds(1, 0, rate, perItem, perCall, 64, 10 * Ms));
        Assert.Equal(0, BatchWaitPolicy.WaitSeconds(1, 0, rate * 0.5, perItem, perCall, 64, 10 * Ms));
    }

    [Fact]
    public void Dense_arrivals_and_a_fixed_cost_to_share_make_it_wait_half_the_break_even()
    {
        // Δ* = b − n·a − n/λ = 5 − 0.1 − 0.2 = 4.7 ms; half of it, well inside the latency room.
        var wait = BatchWaitPolicy.WaitSeconds(1, 0, 5000, 0.1 * Ms, 5 * Ms, 64, 100 * Ms);
        Assert.Equal(2.35 * Ms, wait, 1e-9);
    }

    [Fact]
    public void It_stops_waiting_once_the_queued_items_outnumber_the_expected_arrivals_during_one_fixed_cost()
    {
        // λ·b / (1 + a·λ) = 5000 · 0.005 / 1.5 ≈ 16.7: waits with 16, not with 17.
        Assert.True(BatchWaitPolicy.WaitSeconds(16, 0, 5000, 0.1 * Ms, 5 * Ms, 64, 100 * Ms) > 0);
        Assert.Equal(0, BatchWaitPolicy.WaitSeconds(17, 0, 5000, 0.1 * Ms, 5 * Ms, 64, 100 * Ms));
    }

    [Theory]
    [InlineData(64, 0.0, 5000.0, 5.0, 100.0)] // full batch
    [InlineData(1, 0.0, 0.0, 5.0, 100.0)]     // no rate known
    [InlineData(1, 0.0, 5000.0, 0.0, 100.0)]  // no fixed cost to share
    [InlineData(1, 0.0, 5000.0, 5.0, 0.0)]    // no latency to spend
    [InlineData(1, 6.0, 5000.0, 5.0, 10.0)]   // the oldest already waited what the bound allows
    public void No_wait(int queued, double oldestWaitMs, double rate, double perCallMs, double maxLatencyMs)
    {
        Assert.Equal(0, BatchWaitPolicy.WaitSeconds(queued, oldestWaitMs * Ms, rate, 0.1 * Ms, perCallMs * Ms, 64, maxLatencyMs * Ms));
    }

    [Fact]
    public void The_wait_never_takes_the_oldest_item_past_the_latency_bound_with_the_batch_expected_by_then()
    {
        // Room: (L − w₀ − a·n − b) / (1 + a·λ) = (10 − 3 − 0.1 − 5) / 1.5 = 1.2667 ms, below Δ*/2 = 2.35 ms.
        var perItem = 0.1 * Ms;
        var perCall = 5 * Ms;
        var wait = BatchWaitPolicy.WaitSeconds(1, 3 * Ms, 5000, perItem, perCall, 64, 10 * Ms);
        Assert.Equal(1.9 / 1.5 * Ms, wait, 1e-9);
        var expected = 1 + 5000 * wait;
        Assert.Equal(10 * Ms, 3 * Ms + wait + perItem * expected + perCall, 1e-9);
    }

    [Fact]
    public void The_wait_is_no_longer_than_the_arrivals_need_to_fill_the_batch()
    {
        // (max − n) / λ = 2 / 5000 = 0.4 ms.
        Assert.Equal(0.4 * Ms, BatchWaitPolicy.WaitSeconds(2, 0, 5000, 0.01 * Ms, 5 * Ms, 4, 100 * Ms), 1e-9);
    }

    [Fact]
    public void The_cost_fit_recovers_a_line()
    {
        var model = new BatchCostModel();
        foreach (var n in new[] { 1, 8, 3, 64, 20 })
            model.Observe(n, 0.002 + 0.0001 * n);
        Assert.Equal(0.0001, model.PerItem, 1e-12);
        Assert.Equal(0.002, model.PerCall, 1e-12);
        Assert.Equal(0.002 + 0.0001 * 32, model.Predict(32), 1e-12);
        Assert.Equal(5, model.Observations);
    }

    [Fact]
    public void One_size_only_is_taken_as_proportional_cost_without_a_fixed_part()
    {
        var model = new BatchCostModel();
        model.Observe(4, 0.004);
        model.Observe(4, 0.006);
        Assert.Equal(0.00125, model.PerItem, 1e-12);
        Assert.Equal(0, model.PerCall);
    }

    [Fact]
    public void A_negative_slope_or_intercept_is_clamped()
    {
        var flat = new BatchCostModel();
        flat.Observe(1, 0.003);
        flat.Observe(10, 0.001);
        Assert.Equal(0, flat.PerItem);
        Assert.Equal(0.002, flat.PerCall, 1e-12);

        var steep = new BatchCostModel();
        steep.Observe(1, 0.0001);
        steep.Observe(2, 0.003);
        Assert.Equal(0, steep.PerCall);
        Assert.Equal((1 * 0.0001 + 2 * 0.003) / 5, steep.PerItem, 1e-12);
    }

    [Fact]
    public void The_fit_follows_the_recent_calls_only()
    {
        var model = new BatchCostModel();
        for (var i = 0; i < BatchCostModel.Window; i++)
            model.Observe(1 + i % 4, 1.0);
        for (var i = 0; i < BatchCostModel.Window; i++)
            model.Observe(1 + i % 4, 0.001 * (1 + i % 4));
        Assert.Equal(0.001, model.PerItem, 1e-12);
        Assert.Equal(0, model.PerCall, 1e-12);
        Assert.Equal(1000, model.Throughput, 1e-6);
    }

    [Fact]
    public void The_arrival_rate_needs_two_arrivals_and_decays_while_nothing_comes()
    {
        var rate = new ArrivalRate();
        rate.Record(0, 10);
        Assert.Equal(0, rate.PerSecond(1000, 1000));
        rate.Record(100, 1);
        rate.Record(200, 1);
        Assert.Equal(2 / 0.2, rate.PerSecond(200, 1000), 1e-9);
        Assert.Equal(2 / 2.0, rate.PerSecond(2000, 1000), 1e-9);

        for (var i = 0; i < ArrivalRate.Window * 2; i++)
            rate.Record(1000 + i, 3);
        Assert.Equal((ArrivalRate.Window - 1) * 3 / ((1000.0 + 2 * ArrivalRate.Window - 1 - (1000 + ArrivalRate.Window)) / 1000),
            rate.PerSecond(1000 + 2 * ArrivalRate.Window - 1, 1000), 1e-6);
    }

    [Fact]
    public void Histograms_merge_bucket_by_bucket_and_read_quantiles_from_their_buckets()
    {
        var a = new HistogramRecorder(HistogramBuckets.QueueWaitMs);
        var b = new HistogramRecorder(HistogramBuckets.QueueWaitMs);
        for (var i = 0; i < 99; i++)
            a.Record(0.05);
        b.Record(30);
        var merged = a.Snapshot().Merge(b.Snapshot());
        Assert.Equal(100, merged.Count);
        Assert.Equal(99 * 0.05 + 30, merged.Sum, 1e-9);
        Assert.Equal(99, merged.Counts[0]);
        Assert.Equal(1, merged.Counts[HistogramBuckets.QueueWaitMs.IndexOf(30)]);

        // 30 ms lies in (25.6, 36.2]: p100 is that bucket's bound, p99 the first bucket's.
        Assert.Equal(0.1, merged.Quantile(0.99), 1e-9);
        Assert.Equal(36.203867, merged.Quantile(1), 1e-6);
        Assert.Equal(0.05, merged.Quantile(0.495), 1e-9);
        Assert.Equal(0, Histogram.Empty(HistogramBuckets.QueueWaitMs).Quantile(0.99));

        Assert.Throws<ArgumentException>(() => merged.Merge(Histogram.Empty(HistogramBuckets.BatchSize)));
    }

    [Fact]
    public void Bucket_layouts_are_fixed()
    {
        Assert.Equal(new double[] { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096 }, HistogramBuckets.BatchSize.UpperBounds);
        var waits = HistogramBuckets.QueueWaitMs.UpperBounds;
        Assert.Equal(40, waits.Length);
        Assert.Equal(0.1, waits[0]);
        Assert.Equal(0.141421, waits[1]);
        Assert.Equal(0.2, waits[2]);
        Assert.Equal(52428.8, waits[38]);
        Assert.Equal(0, HistogramBuckets.BatchSize.IndexOf(1));
        Assert.Equal(2, HistogramBuckets.BatchSize.IndexOf(3));
        Assert.Equal(13, HistogramBuckets.BatchSize.IndexOf(5000));
    }
}
