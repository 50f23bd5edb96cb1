namespace Serving.Runtime.Supervision;

/// <summary>
/// A live host's state from its workers' (pure): Running when every worker runs, else Degraded with
/// the reason a person needs — which runners have no running worker, whether any API worker runs, and
/// every worker that is not running.
/// </summary>
internal static class HostHealth
{
    public static (HostState State, string Reason) Evaluate(IReadOnlyList<RunnerPlan> runners, IReadOnlyList<WorkerInfo> workers)
    {
        var down = workers.Where(w => w.State != WorkerState.Running).ToList();
        if (down.Count == 0)
            return (HostState.Running, "");
        var reasons = new List<string>();
        foreach (var runner in runners)
            if (runner.Workers > 0 && !workers.Any(w => w.Runner == runner.Name && w.State == WorkerState.Running))
                reasons.Add($"runner '{runner.Name}' has no running worker");
        if (!workers.Any(w => w.Role != WorkerRole.Runner && w.State == WorkerState.Running))
            reasons.Add("no API worker is running");
        reasons.Add("not running: " + string.Join(", ", down.Select(w => $"{w.Name} ({w.State})")));
        return (HostState.Degraded, string.Join("; ", reasons));
    }
}
