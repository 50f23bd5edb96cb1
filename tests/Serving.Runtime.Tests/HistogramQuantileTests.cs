using Xunit;

namespace Serving.Runtime.Tests;

public class HistogramQuantileTests
{
    private static readonly double Inf = double.PositiveInfinity;

    [Fact]
    public void Interpolates_inside_the_bucket_that_holds_the_rank_as_prometheus_does()
    {
        // 100 observations: 50 ≤ 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1].
        var buckets = new[] { (0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (Inf, 100.0) };
        Assert.Equal(0.1, HistogramQuantile.Of(0.5, buckets)!.Value, 9);
        Assert.Equal(0.5 + 0.5 * (99 - 90) / 10.0, HistogramQuantile.Of(0.99, buckets)!.Value, 9);
        // The first bucket starts at 0.
        Assert.Equal(0.1 * 25 / 50, HistogramQuantile.Of(0.25, buckets)!.Value, 9);
    }

    [Fact]
    public void A_rank_in_the_inf_bucket_is_the_highest_finite_bound()
    {
        Assert.Equal(1.0, HistogramQuantile.Of(0.99, new[] { (0.5, 1.0), (1.0, 2.0), (Inf, 10.0) }));
    }

    [Fact]
    public void No_observation_or_no_inf_bucket_is_null()
    {
        Assert.Null(HistogramQuantile.Of(0.99, new[] { (0.5, 0.0), (Inf, 0.0) }));
        Assert.Null(HistogramQuantile.Of(0.99, new[] { (0.5, 3.0) }));
        Assert.Null(HistogramQuantile.Of(0.99, Array.Empty<(double, double)>()));
    }

    [Fact]
    public void Buckets_that_go_down_are_raised_to_the_one_below()
    {
        // A reset between two scrapes can leave a delta that is not cumulative.
        Assert.Equal(0.099, HistogramQuantile.Of(0.99, new[] { (0.1, 10.0), (0.5, 4.0), (Inf, 10.0) })!.Value, 9);
    }
}
