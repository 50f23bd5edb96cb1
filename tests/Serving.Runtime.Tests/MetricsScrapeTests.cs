using Xunit;

namespace Serving.Runtime.Tests;

public class MetricsScrapeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Parses_names_labels_values_and_skips_comments_and_lines_it_cannot_read()
    {
        var scrape = MetricsScrape.Parse(
            "# HELP serving_request_total Requests.\n" +
            "# TYPE serving_request_total counter\n" +
            "serving_request_total{api=\"/classify\",protocol=\"http\",status=\"200\"} 5\r\n" +
            "serving_request_total{api=\"/a \\\"b\\\"\\\\c\\nd\",protocol=\"grpc\",status=\"OK\"} 1.5e3 1700000000000\n" +
            "serving_request_duration_seconds_bucket{api=\"/classify\",protocol=\"http\",le=\"+Inf\"} 6\n" +
            "serving_host_generation 2\n" +
            "broken{api=\"x} 1\n" +
            "\n", T0);

        var requests = scrape.Samples("serving_request_total");
        Assert.Equal(2, requests.Count);
        Assert.Equal("/classify", requests[0].Label("api"));
        Assert.Equal("200", requests[0].Label("status"));
        Assert.Equal(5, requests[0].Value);
        Assert.Equal("/a \"b\"\\c\nd", requests[1].Label("api"));
        Assert.Equal(1500, requests[1].Value);
        Assert.Equal(double.PositiveInfinity, MetricsScrape.TryParseValue(scrape.Samples("serving_request_duration_seconds_bucket")[0].Label("le"), out var le) ? le : 0);
        Assert.Equal(2, Assert.Single(scrape.Samples("serving_host_generation")).Value);
        Assert.Empty(scrape.Samples("broken"));
        Assert.Equal("", requests[0].Label("missing"));
        Assert.Equal(T0, scrape.TakenAt);
    }

    [Fact]
    public void A_series_has_the_same_key_whatever_the_order_of_its_labels()
    {
        var a = MetricsScrape.Parse("m{a=\"1\",b=\"2\"} 1", T0).Samples("m")[0];
        var b = MetricsScrape.Parse("m{b=\"2\",a=\"1\"} 1", T0).Samples("m")[0];
        Assert.Equal(a.Key, b.Key);
    }
}
