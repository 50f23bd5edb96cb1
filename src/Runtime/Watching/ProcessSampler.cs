using System.Diagnostics;

namespace Serving.Runtime.Watching;

/// <summary>
/// Reads a process's CPU time and resident memory (System.Diagnostics.Process: /proc/&lt;pid&gt;/stat on
/// Linux, the OS's own calls elsewhere) and keeps the last reading of each pid, so each refresh gives
/// CPU % since the one before.
/// </summary>
public sealed class ProcessSampler
{
    private readonly Dictionary<int, ProcessSample> _last = new();

    /// <summary>A reading of <paramref name="pid"/> and its CPU % since the last one; null when it is not running.</summary>
    public (ProcessSample Sample, double? CpuPercent)? Sample(int pid)
    {
        if (pid <= 0) return null;
        ProcessSample now;
        try
        {
            using var process = Process.GetProcessById(pid);
            now = new ProcessSample(pid, process.TotalProcessorTime, process.WorkingSet64, DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exited between the snapshot and this reading, or not ours to read.
            _last.Remove(pid);
            return null;
        }
        ProcessSample? before = _last.TryGetValue(pid, out var b) ? b : null;
        _last[pid] = now;
        return (now, now.CpuPercentSince(before));
    }

    /// <summary>Forgets pids no longer asked about (workers that were replaced).</summary>
    public void Retain(IReadOnlyCollection<int> pids)
    {
        foreach (var pid in _last.Keys.Where(p => !pids.Contains(p)).ToList()) _last.Remove(pid);
    }
}
