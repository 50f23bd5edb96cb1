using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Serving.Worker.Metrics;

namespace Serving.Worker.Tests;

/// <summary>
/// Metrics across processes: each worker's segment file, and the exporter that adds every segment of the host up —
/// counters and histograms over all of them (a dead worker's counts stay), gauges over live writers only.
/// </summary>
public sealed class MetricsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "metrics-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<IDisposable> _owned = new();

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private MetricSegment Segment(string worker)
    {
        var segment = MetricSegment.Create(_directory, worker);
        _owned.Add(segment);
        return segment;
    }

    [Fact]
    public void A_worker_that_starts_after_the_state_directory_is_gone_does_not_bring_it_back()
    {
        var gone = Path.Combine(_directory, "state-removed");
        var warnings = new List<string>();
        using var metrics = WorkerMetrics.Open(Path.Combine(gone, "metrics"), "api-9", export: false, warnings.Add);
        Assert.Null(metrics.SegmentPath);
        Assert.False(Directory.Exists(gone));
        Assert.Contains("metrics are off in api-9", Assert.Single(warnings));
        Directory.CreateDirectory(_directory); // for Dispose
    }

    private string Render()
    {
        using var exporter = new MetricsExporter(_directory);
        return exporter.Render();
    }

    private static double Sample(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no sample '{series}' in:\n{text}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Makes a segment look written by a process that has ended: its header's pid names no process.</summary>
    private static void MarkWriterDead(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var pid = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(pid, int.MaxValue - 7);
        file.Position = 20;
        file.Write(pid);
    }

    [Fact]
    public void Requests_of_every_worker_add_up_by_api_protocol_and_status()
    {
        var api1 = new ApiMetrics(Segment("api-1"), "/classify", "http");
        var api2 = new ApiMetrics(Segment("api-2"), "/classify", "http");
        for (var i = 0; i < 7; i++) api1.End(api1.Begin(), 200);
        for (var i = 0; i < 5; i++) api2.End(api2.Begin(), 200);
        api2.End(api2.Begin(), 400);

        var text = Render();
        Assert.Equal(12, Sample(text, "serving_request_total{api=\"/classify\",protocol=\"http\",status=\"200\"}"));
        Assert.Equal(1, Sample(text, "serving_request_total{api=\"/classify\",protocol=\"http\",status=\"400\"}"));
        Assert.Equal(13, Sample(text, "serving_request_duration_seconds_count{api=\"/classify\",protocol=\"http\"}"));
        Assert.Equal(13, Sample(text, "serving_request_duration_seconds_bucket{api=\"/classify\",protocol=\"http\",le=\"+Inf\"}"));
        Assert.Equal(0, Sample(text, "serving_request_in_progress{api=\"/classify\",protocol=\"http\"}"));
    }

    [Fact]
    public void A_dead_workers_counts_stay_in_the_totals_but_its_requests_in_progress_do_not()
    {
        var dead = Segment("api-1");
        var deadApi = new ApiMetrics(dead, "/echo", "http");
        for (var i = 0; i < 4; i++) deadApi.End(deadApi.Begin(), 200);
        deadApi.Begin(); // killed mid-request
        var live = new ApiMetrics(Segment("api-1-respawned"), "/echo", "http");
        live.End(live.Begin(), 200);
        live.Begin();

        MarkWriterDead(dead.Path);
        var text = Render();
        Assert.Equal(5, Sample(text, "serving_request_total{api=\"/echo\",protocol=\"http\",status=\"200\"}"));
        Assert.Equal(1, Sample(text, "serving_request_in_progress{api=\"/echo\",protocol=\"http\"}"));
    }

    [Fact]
    public void Histograms_are_written_cumulative_with_their_sum_in_the_unit_of_the_name()
    {
        var segment = Segment("runner");
        var batches = new BatchMetrics(segment, "runner=\"classifier\"");
        batches.Batch(1);
        batches.Batch(3);
        batches.Batch(3);
        batches.Batch(5000); // above the last bound: +Inf only
        batches.QueueWait(0.002);

        var text = Render();
        Assert.Equal(1, Sample(text, "serving_runner_batch_size_bucket{runner=\"classifier\",le=\"1\"}"));
        Assert.Equal(1, Sample(text, "serving_runner_batch_size_bucket{runner=\"classifier\",le=\"2\"}"));
        Assert.Equal(3, Sample(text, "serving_runner_batch_size_bucket{runner=\"classifier\",le=\"4\"}"));
        Assert.Equal(3, Sample(text, "serving_runner_batch_size_bucket{runner=\"classifier\",le=\"4096\"}"));
        Assert.Equal(4, Sample(text, "serving_runner_batch_size_bucket{runner=\"classifier\",le=\"+Inf\"}"));
        Assert.Equal(5007, Sample(text, "serving_runner_batch_size_sum{runner=\"classifier\"}"));
        Assert.Equal(4, Sample(text, "serving_runner_batch_size_count{runner=\"classifier\"}"));
        Assert.Equal(0.002, Sample(text, "serving_runner_queue_wait_seconds_sum{runner=\"classifier\"}"), 9);
        Assert.Equal(1, Sample(text, "serving_runner_queue_wait_seconds_bucket{runner=\"classifier\",le=\"0.0025\"}"));
        Assert.Equal(0, Sample(text, "serving_runner_queue_wait_seconds_bucket{runner=\"classifier\",le=\"0.001\"}"));
    }

    [Fact]
    public void Every_family_is_one_block_with_its_help_and_type_and_the_supervisors_file_follows()
    {
        var api = new ApiMetrics(Segment("api-1"), "/a\"b", "grpc");
        api.End(api.Begin(), global::Grpc.Core.StatusCode.InvalidArgument);
        File.WriteAllText(Path.Combine(_directory, MetricsFiles.HostFileName), "# HELP serving_host_generation g\n# TYPE serving_host_generation gauge\nserving_host_generation 3\n");

        var text = Render();
        Assert.Equal(1, Sample(text, "serving_request_total{api=\"/a\\\"b\",protocol=\"grpc\",status=\"INVALID_ARGUMENT\"}"));
        Assert.Equal(3, Sample(text, "serving_host_generation"));
        // A family's samples follow its TYPE line and no other family's come between them.
        var seen = new HashSet<string>();
        string? current = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                current = line.Split(' ')[2];
                Assert.True(seen.Add(current), $"family {current} written twice");
                continue;
            }
            if (line.StartsWith('#'))
                continue;
            var name = line.Split('{', ' ')[0];
            Assert.NotNull(current);
            Assert.True(name == current || name.StartsWith(current + "_", StringComparison.Ordinal), $"{name} outside its family (in {current})");
        }
    }

    [Fact]
    public void A_full_segment_drops_new_series_and_keeps_counting_the_old()
    {
        var segment = MetricSegment.Create(_directory, "tiny", capacity: 2);
        _owned.Add(segment);
        var a = segment.Cell(MetricFamilies.Requests, MetricSegmentLayout.ValueBucket, "api=\"/a\",protocol=\"http\",status=\"200\"");
        var b = segment.Cell(MetricFamilies.Requests, MetricSegmentLayout.ValueBucket, "api=\"/b\",protocol=\"http\",status=\"200\"");
        var c = segment.Cell(MetricFamilies.Requests, MetricSegmentLayout.ValueBucket, "api=\"/c\",protocol=\"http\",status=\"200\"");
        a.Increment();
        b.Add(2);
        c.Increment();
        Assert.Equal(1, segment.Dropped);
        Assert.Equal(0, c.Read());
        var text = Render();
        Assert.Equal(2, Sample(text, "serving_request_total{api=\"/b\",protocol=\"http\",status=\"200\"}"));
        Assert.DoesNotContain("/c", text);
    }

    [Fact]
    public void A_new_worker_never_overwrites_an_earlier_segment_with_the_same_name()
    {
        var first = Segment("api-1");
        new ApiMetrics(first, "/echo", "http").End(0, 200);
        var second = Segment("api-1");
        Assert.NotEqual(first.Path, second.Path);
        new ApiMetrics(second, "/echo", "http").End(0, 200);
        Assert.Equal(2, Sample(Render(), "serving_request_total{api=\"/echo\",protocol=\"http\",status=\"200\"}"));
    }

    [Fact]
    public async Task Concurrent_requests_are_counted_exactly()
    {
        var api = new ApiMetrics(Segment("api-1"), "/echo", "http");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++) api.End(api.Begin(), 200 + i % 2);
        })));
        var text = Render();
        Assert.Equal(40_000, Sample(text, "serving_request_total{api=\"/echo\",protocol=\"http\",status=\"200\"}"));
        Assert.Equal(40_000, Sample(text, "serving_request_total{api=\"/echo\",protocol=\"http\",status=\"201\"}"));
        Assert.Equal(80_000, Sample(text, "serving_request_duration_seconds_count{api=\"/echo\",protocol=\"http\"}"));
    }
}
