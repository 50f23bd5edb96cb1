using System.Globalization;

namespace Serving.Runtime.Supervision;

/// <summary>
/// The lines the supervisor writes to a worker's stdin (docs/worker-protocol.md, "Standard
/// streams"), built in one place. Pure: the runner-down line is computed from the slots it is given.
/// </summary>
internal static class LifelineCommands
{
    /// <summary>The Retry-After API workers give while a runner is down for good (Failed, or exited with respawn off).</summary>
    public static readonly TimeSpan FailedRunnerRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary><c>stop SECONDS</c>: drain for up to <paramref name="drain"/> (whole seconds, rounded up, at least 1), then exit.</summary>
    public static string Stop(TimeSpan drain) =>
        "stop " + Math.Max(1, (int)Math.Ceiling(drain.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>stop-accepting</c>: close the listening sockets now and serve only the connections already open, until
    /// a <c>stop</c> (another generation took over: new connections belong to it).
    /// </summary>
    public const string StopAccepting = "stop-accepting";

    /// <summary><c>failing REASON</c>: the host is ending; /livez answers 503 with the reason.</summary>
    public static string Failing(string reason) => "failing " + reason.ReplaceLineEndings(" ");

    /// <summary><c>runner-up NAME</c>: the runner has a live worker again.</summary>
    public static string RunnerUp(string runner) => "runner-up " + runner;

    /// <summary><c>runner-workers NAME COUNT</c>: the runner has <paramref name="workers"/> workers now (scaled); API workers size their connections to it.</summary>
    public static string RunnerWorkers(string runner, int workers) =>
        string.Create(CultureInfo.InvariantCulture, $"runner-workers {runner} {workers}");

    /// <summary>
    /// <c>runner-down NAME RETRY-AFTER-SECONDS REASON</c>: none of the runner's workers is alive. While
    /// one is starting or waiting to be respawned, the retry hint is the time until that start plus a
    /// second to load; otherwise the runner is down for good (<see cref="FailedRunnerRetryAfter"/>).
    /// </summary>
    public static string RunnerDown(string runner, IEnumerable<WorkerSlot> slots, bool respawn, DateTime now)
    {
        DateTime? due = null;
        var starting = false;
        foreach (var s in slots)
        {
            if (s.Spec.Runner != runner) continue;
            if (s.State == WorkerState.Starting) starting = true;
            if (s.State == WorkerState.Backoff && (due is null || s.RespawnDue < due)) due = s.RespawnDue;
        }
        string reason;
        TimeSpan retryAfter;
        if (starting || due is not null)
        {
            var wait = due is { } d && d > now ? d - now : TimeSpan.Zero;
            retryAfter = wait + TimeSpan.FromSeconds(1);
            reason = starting ? "starting" : "restarting";
        }
        else
        {
            retryAfter = FailedRunnerRetryAfter;
            reason = respawn ? "failed: given up after repeated crashes" : "exited";
        }
        return string.Create(CultureInfo.InvariantCulture, $"runner-down {runner} {Math.Ceiling(retryAfter.TotalSeconds):0} {reason}");
    }
}
