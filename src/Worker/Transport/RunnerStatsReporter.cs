using System.Buffers;
using System.Text;
using System.Text.Json;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

/// <summary>
/// Tells the supervisor, once a second while anything changed, what this runner worker did:
/// one line <c>@@serving stats {json}</c> on stdout (docs/worker-protocol.md, "Standard streams").
/// Counters are totals since the process started; the supervisor keeps a dead process's last report,
/// so its totals never go backwards. <c>Get-ServingHost</c>'s <c>Runners</c> rows come from these lines.
/// </summary>
internal sealed class RunnerStatsReporter : IDisposable
{
    private readonly RunnerEndpointService _service;
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private string? _last;

    public RunnerStatsReporter(RunnerEndpointService service)
    {
        _service = service;
        var interval = TimeSpan.FromMilliseconds(service.Tuning.StatsIntervalMs);
        _timer = new Timer(static s => ((RunnerStatsReporter)s!).Report(), this, interval, interval);
    }

    /// <summary>Writes a line now if anything changed since the last one (also called at the end of a drain).</summary>
    public void Report()
    {
        string line;
        lock (_lock)
        {
            line = WorkerStatusLines.StatsPrefix + Json();
            if (line == _last)
                return;
            _last = line;
        }
        LineLoggerProvider.WriteStdout(line);
    }

    private string Json()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            // A runner's batch targets (a method, and APIs overriding its settings) add up to one report.
            long batches = 0, items = 0, queued = 0, shed = 0, timedOut = 0, cancelled = 0;
            Histogram? queueWait = null;
            foreach (var target in _service.Targets)
            {
                if (target is not BatchCallTarget batch)
                    continue;
                var stats = batch.Dispatcher.Statistics;
                batches += stats.Batches;
                items += stats.Items;
                queued += stats.Queued;
                shed += stats.Shed;
                timedOut += stats.TimedOut;
                cancelled += stats.Cancelled;
                queueWait = queueWait is null ? stats.QueueWaitMs : queueWait.Merge(stats.QueueWaitMs);
            }
            w.WriteStartObject();
            w.WriteNumber("calls", _service.Calls);
            w.WriteBoolean("batchable", queueWait is not null);
            if (queueWait is not null)
            {
                w.WriteNumber("batches", batches);
                w.WriteNumber("items", items);
                w.WriteNumber("queued", queued);
                w.WriteNumber("shed", shed);
                w.WriteNumber("timedOut", timedOut);
                w.WriteNumber("cancelled", cancelled);
                w.WriteStartObject("queueWaitMs");
                w.WriteStartArray("bounds");
                foreach (var bound in queueWait.Buckets.UpperBounds)
                    w.WriteNumberValue(bound);
                w.WriteEndArray();
                w.WriteStartArray("counts");
                foreach (var count in queueWait.Counts)
                    w.WriteNumberValue(count);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public void Dispose() => _timer.Dispose();
}
