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
    public const string Prefix = "@@serving stats ";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly RunnerEndpointService _service;
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private string? _last;

    public RunnerStatsReporter(RunnerEndpointService service)
    {
        _service = service;
        _timer = new Timer(static s => ((RunnerStatsReporter)s!).Report(), this, Interval, Interval);
    }

    /// <summary>Writes a line now if anything changed since the last one (also called at the end of a drain).</summary>
    public void Report()
    {
        string line;
        lock (_lock)
        {
            line = Prefix + Json();
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
            BatchStatistics? total = null;
            foreach (var target in _service.Targets)
            {
                if (target is BatchCallTarget batch)
                    total = total is null ? batch.Dispatcher.Statistics : Merge(total, batch.Dispatcher.Statistics);
            }
            w.WriteStartObject();
            w.WriteNumber("calls", _service.Calls);
            w.WriteBoolean("batchable", total is not null);
            if (total is not null)
            {
                w.WriteNumber("batches", total.Batches);
                w.WriteNumber("items", total.Items);
                w.WriteNumber("queued", total.Queued);
                w.WriteNumber("shed", total.Shed);
                w.WriteNumber("timedOut", total.TimedOut);
                w.WriteNumber("cancelled", total.Cancelled);
                w.WriteStartObject("queueWaitMs");
                w.WriteStartArray("bounds");
                foreach (var bound in total.QueueWaitMs.Buckets.UpperBounds)
                    w.WriteNumberValue(bound);
                w.WriteEndArray();
                w.WriteStartArray("counts");
                foreach (var count in total.QueueWaitMs.Counts)
                    w.WriteNumberValue(count);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static BatchStatistics Merge(BatchStatistics a, BatchStatistics b) =>
        new(a.Queued + b.Queued, a.Batches + b.Batches, a.Items + b.Items, a.Calls + b.Calls, a.Shed + b.Shed, a.TimedOut + b.TimedOut,
            a.Cancelled + b.Cancelled, a.Stopped + b.Stopped, a.BatchSize.Merge(b.BatchSize), a.QueueWaitMs.Merge(b.QueueWaitMs),
            (a.PerItemMs + b.PerItemMs) / 2, (a.PerCallMs + b.PerCallMs) / 2);

    public void Dispose() => _timer.Dispose();
}
