namespace Serving.Worker.HttpFrontDoor;

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
