using System.Text.Json;

namespace Serving.Runtime.Supervision;

/// <summary>
/// What one runner worker process reported about itself in its latest <c>@@serving stats {json}</c>
/// line (docs/worker-protocol.md, "Standard streams"): counters since the process started, and the
/// queue-wait histogram as bucket upper bounds (ms) with counts, so workers can be merged.
/// </summary>
internal sealed record RunnerWorkerStats(long Calls, bool Batchable, long Batches, long Items, long Shed, long TimedOut,
    double[] QueueWaitBoundsMs, long[] QueueWaitCounts, DateTimeOffset ReportedAt)
{
    public static readonly RunnerWorkerStats Empty = new(0, false, 0, 0, 0, 0, [], [], DateTimeOffset.MinValue);

    /// <summary>Parses the JSON of a stats line; null when it is not one we understand (a line is never trusted to be well-formed).</summary>
    public static RunnerWorkerStats? Parse(string json, DateTimeOffset at)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            double[] bounds = [];
            long[] counts = [];
            if (root.TryGetProperty("queueWaitMs", out var wait) && wait.ValueKind == JsonValueKind.Object)
            {
                bounds = [.. wait.GetProperty("bounds").EnumerateArray().Select(e => e.GetDouble())];
                counts = [.. wait.GetProperty("counts").EnumerateArray().Select(e => e.GetInt64())];
                if (counts.Length != bounds.Length + 1)
                    return null; // one overflow bucket past the last bound
            }
            return new RunnerWorkerStats(Long(root, "calls"), root.TryGetProperty("batchable", out var b) && b.ValueKind == JsonValueKind.True,
                Long(root, "batches"), Long(root, "items"), Long(root, "shed"), Long(root, "timedOut"), bounds, counts, at);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static long Long(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.TryGetInt64(out var n) ? n : 0;

    /// <summary>Both reports' counters added, histograms merged (bucket by bucket when the bounds agree).</summary>
    public RunnerWorkerStats Plus(RunnerWorkerStats other)
    {
        double[] bounds;
        long[] counts;
        if (QueueWaitCounts.Length == 0)
            (bounds, counts) = (other.QueueWaitBoundsMs, other.QueueWaitCounts);
        else if (other.QueueWaitCounts.Length == 0 || !QueueWaitBoundsMs.AsSpan().SequenceEqual(other.QueueWaitBoundsMs))
            (bounds, counts) = (QueueWaitBoundsMs, QueueWaitCounts);
        else
        {
            bounds = QueueWaitBoundsMs;
            counts = new long[QueueWaitCounts.Length];
            for (var i = 0; i < counts.Length; i++)
                counts[i] = QueueWaitCounts[i] + other.QueueWaitCounts[i];
        }
        return new RunnerWorkerStats(Calls + other.Calls, Batchable || other.Batchable, Batches + other.Batches, Items + other.Items,
            Shed + other.Shed, TimedOut + other.TimedOut, bounds, counts, ReportedAt > other.ReportedAt ? ReportedAt : other.ReportedAt);
    }

    /// <summary>The upper bound of the bucket holding the 99th percentile (the last bound for the overflow bucket); 0 with no samples.</summary>
    public double P99QueueWaitMs()
    {
        long total = 0;
        foreach (var c in QueueWaitCounts)
            total += c;
        if (total == 0)
            return 0;
        var rank = (long)Math.Ceiling(total * 0.99);
        long seen = 0;
        for (var i = 0; i < QueueWaitCounts.Length; i++)
        {
            seen += QueueWaitCounts[i];
            if (seen >= rank)
                return i < QueueWaitBoundsMs.Length ? QueueWaitBoundsMs[i] : QueueWaitBoundsMs[^1];
        }
        return QueueWaitBoundsMs.Length > 0 ? QueueWaitBoundsMs[^1] : 0;
    }
}
