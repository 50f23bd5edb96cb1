using System.Buffers;
using System.Text.Json;
using Serving.Worker.Errors;
using Serving.Worker.Transport;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>One runner's state as the readiness probe saw it.</summary>
internal readonly record struct RunnerReadiness(string Name, bool Ready, string Status);

/// <summary>What /readyz and /healthz report.</summary>
internal sealed class ReadinessReport(RunnerReadiness[] runners, long takenAt)
{
    public RunnerReadiness[] Runners { get; } = runners;
    public long TakenAt { get; } = takenAt;

    public bool AllReady
    {
        get
        {
            foreach (var r in Runners)
            {
                if (!r.Ready)
                    return false;
            }
            return true;
        }
    }
}

internal interface IReadinessSource
{
    ValueTask<ReadinessReport> GetAsync();
}

/// <summary>Dev role: the runners live in this process and were initialised before it listened.</summary>
internal sealed class InProcessReadiness(IEnumerable<string> runnerNames) : IReadinessSource
{
    private readonly ReadinessReport _report = new(
        runnerNames.Select(n => new RunnerReadiness(n, true, "SERVING")).ToArray(), 0);

    public ValueTask<ReadinessReport> GetAsync() => new(_report);
}

/// <summary>
/// API role: pings every runner over the runner protocol (1 s deadline) and caches the answer for
/// 500 ms, with one probe in flight at a time, so readiness probes under load stay cheap. A runner
/// the supervisor said is down is not ready without asking ("DOWN").
/// </summary>
internal sealed class RunnerPingReadiness : IReadinessSource
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(1);
    private const long CacheMilliseconds = 500;

    private readonly RunnerClient[] runners;
    private readonly Lock _lock = new();
    private ReadinessReport? _last;
    private Task<ReadinessReport>? _pending;

    public RunnerPingReadiness(RunnerClient[] runners)
    {
        this.runners = runners;
        // The supervisor's word that a runner went down or came back makes a cached answer stale.
        foreach (var runner in runners)
            runner.AvailabilityChanged += () => Volatile.Write(ref _last, null);
    }

    public ValueTask<ReadinessReport> GetAsync()
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && Environment.TickCount64 - last.TakenAt < CacheMilliseconds)
            return new ValueTask<ReadinessReport>(last);
        lock (_lock)
        {
            if (_pending is null || _pending.IsCompleted)
                _pending = ProbeAsync();
            return new ValueTask<ReadinessReport>(_pending);
        }
    }

    private async Task<ReadinessReport> ProbeAsync()
    {
        var checks = new Task<(bool Ready, string Status)>[runners.Length];
        for (var i = 0; i < runners.Length; i++)
            checks[i] = runners[i].CheckAsync(CheckTimeout);
        var results = new RunnerReadiness[runners.Length];
        for (var i = 0; i < runners.Length; i++)
        {
            var (ready, status) = await checks[i].ConfigureAwait(false);
            results[i] = new RunnerReadiness(runners[i].Name, ready, status);
        }
        var report = new ReadinessReport(results, Environment.TickCount64);
        Volatile.Write(ref _last, report);
        return report;
    }
}

/// <summary>The probe endpoints' JSON bodies.</summary>
internal static class ProbeBodies
{
    private static readonly JsonWriterOptions JsonWriterOptions = ApiResponses.JsonWriterOptions;

    public static ReadOnlyMemory<byte> Ready(string worker) => Write(w =>
    {
        w.WriteString("status", "ready");
        w.WriteString("worker", worker);
    });

    /// <summary>
    /// /readyz 503: a problem body (<c>NotReady</c>, or <c>Stopping</c> once a drain began) with
    /// <c>notReady</c>, the runners without a ready worker.
    /// </summary>
    public static ReadOnlyMemory<byte> NotReady(ReadinessReport report, bool stopping, string requestId, string worker)
    {
        var names = new List<string>();
        foreach (var r in report.Runners)
        {
            if (!r.Ready)
                names.Add(r.Name);
        }
        var problem = stopping ? Problems.Stopping : Problems.NotReady;
        var detail = stopping ? "the worker is stopping" : $"runners not ready: {string.Join(", ", names)}";
        return ApiResponses.ProblemBody(problem, detail, requestId, worker, w =>
        {
            w.WriteStartArray("notReady");
            foreach (var n in names)
                w.WriteStringValue(n);
            w.WriteEndArray();
        });
    }

    public static ReadOnlyMemory<byte> Health(string worker, ReadinessReport report, bool stopping) => Write(w =>
    {
        var ok = !stopping && report.AllReady;
        w.WriteString("status", ok ? "ok" : stopping ? "stopping" : "unavailable");
        w.WriteString("worker", worker);
        w.WriteStartObject("runners");
        foreach (var r in report.Runners)
        {
            w.WriteStartObject(r.Name);
            w.WriteBoolean("ready", r.Ready);
            w.WriteString("status", r.Status);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    private static ReadOnlyMemory<byte> Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
