using Serving.Worker.Transport;

namespace Serving.Worker.HttpFrontDoor;

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
