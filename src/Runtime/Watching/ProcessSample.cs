namespace Serving.Runtime.Watching;

/// <summary>One reading of a process: CPU time used so far and resident memory, and when it was read.</summary>
public readonly record struct ProcessSample(int Pid, TimeSpan CpuTime, long ResidentBytes, DateTimeOffset At)
{
    /// <summary>
    /// CPU use between <paramref name="earlier"/> and this reading, in percent of one core (as top
    /// and pm2 show it: a process busy on two cores is 200); null when the readings are of different
    /// processes (a respawned worker has a new pid) or no time apart.
    /// </summary>
    public double? CpuPercentSince(ProcessSample? earlier)
    {
        if (earlier is not { } before || before.Pid != Pid) return null;
        var wall = (At - before.At).TotalSeconds;
        if (wall <= 0) return null;
        var cpu = (CpuTime - before.CpuTime).TotalSeconds;
        return Math.Max(0, cpu) / wall * 100;
    }
}
