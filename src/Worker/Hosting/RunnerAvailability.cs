using System.Collections.Concurrent;
using Serving.Worker.Errors;

namespace Serving.Worker.Hosting;

/// <summary>Why calls to a runner are answered at once instead of being sent: what the client is told.</summary>
/// <param name="Problem">The client-facing problem type (RunnerUnavailable, Stopping).</param>
/// <param name="Detail">One sentence for the client.</param>
/// <param name="RetryAfter">When a retry may succeed (HTTP Retry-After, gRPC grpc-retry-pushback-ms).</param>
internal sealed record Unavailability(Problem Problem, string Detail, TimeSpan RetryAfter)
{
    /// <summary>A request still running when the drain's time was up.</summary>
    public static readonly Unavailability HostStopping =
        new(Problems.Stopping, "the host is stopping and could not finish this request in time; retry", TimeSpan.FromSeconds(1));
}

/// <summary>
/// What the supervisor last said about each runner (lifeline commands <c>runner-down</c> /
/// <c>runner-up</c>, docs/worker-protocol.md): a runner none of whose workers is alive, between a
/// crash and its respawn or given up on, is answered at once rather than called. A runner the
/// supervisor said nothing about is assumed up (a worker started by hand, or before the first word).
/// Also how many workers the supervisor last said a runner has (<c>runner-workers</c>): the API
/// worker's connections to it follow that count instead of host.json's.
/// </summary>
internal sealed class RunnerAvailability
{
    private readonly ConcurrentDictionary<string, Unavailability> _down = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _workers = new(StringComparer.Ordinal);

    /// <summary>Raised (on the lifeline's thread) with the runner's name after its state changed.</summary>
    public event Action<string>? Changed;

    /// <summary>Raised (on the lifeline's thread) with the runner's name after its worker count changed.</summary>
    public event Action<string>? WorkersChanged;

    /// <summary>Why the runner cannot be called now, or null when it can.</summary>
    public Unavailability? Down(string runner) => _down.TryGetValue(runner, out var why) ? why : null;

    public void SetDown(string runner, TimeSpan retryAfter, string reason)
    {
        var detail = reason.Length > 0
            ? $"runner '{runner}' has no live worker ({reason}); retry later"
            : $"runner '{runner}' has no live worker; retry later";
        _down[runner] = new Unavailability(Problems.RunnerUnavailable, detail, retryAfter);
        Changed?.Invoke(runner);
    }

    public void SetUp(string runner)
    {
        if (_down.TryRemove(runner, out _))
            Changed?.Invoke(runner);
    }

    /// <summary>The runner's worker count as the supervisor last said it, or null when it said nothing (host.json's holds).</summary>
    public int? Workers(string runner) => _workers.TryGetValue(runner, out var workers) ? workers : null;

    public void SetWorkers(string runner, int workers)
    {
        // One writer (the lifeline's thread): the check and the write cannot interleave with another word.
        if (_workers.TryGetValue(runner, out var was) && was == workers)
            return;
        _workers[runner] = workers;
        WorkersChanged?.Invoke(runner);
    }
}
