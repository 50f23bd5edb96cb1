using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Gets the log lines of serving hosts, of all their workers merged in time order, without taking them from the job.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServingLog", DefaultParameterSetName = NameSet)]
[OutputType(typeof(WorkerLogEntry))]
public sealed class GetServingLogCommand : HostViewCommandBase
{
    /// <summary>How often -Follow looks at the hosts when no line arrives, to notice Ctrl+C and a host's end.</summary>
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>Only the last N lines (after the other filters).</summary>
    [Parameter][ValidateRange(0, int.MaxValue)] public int? Tail { get; set; }

    /// <summary>Then write new lines as they arrive, until Ctrl+C or every host has ended.</summary>
    [Parameter] public SwitchParameter Follow { get; set; }

    /// <summary>Only lines of workers whose name matches (api-1, echo-*, supervisor lines are the worker's, reloader).</summary>
    [Parameter][SupportsWildcards][ValidateNotNullOrEmpty] public string[]? Worker { get; set; }

    /// <summary>Only lines at this level or above.</summary>
    [Parameter] public LogLevel Level { get; set; } = LogLevel.Trace;

    private WildcardPattern[]? _workers;

    protected override void BeginProcessing() =>
        _workers = Worker?.Select(w => WildcardPattern.Get(w, WildcardOptions.IgnoreCase)).ToArray();

    protected override void EndProcessing()
    {
        try
        {
            var news = new ManualResetEventSlim(false);
            Action<WorkerLogEntry> wake = _ => news.Set();
            // Subscribed before the first read: a line that arrives in between wakes the first wait instead of being missed.
            if (Follow) foreach (var host in Hosts) host.Log += wake;
            try
            {
                var seen = new long[Hosts.Count];
                var lines = new List<(WorkerLogEntry Entry, int Host, long Order)>();
                for (var i = 0; i < Hosts.Count; i++)
                {
                    var entries = Hosts[i].RecentLog.Read(0, out seen[i]);
                    for (var k = 0; k < entries.Length; k++)
                        if (Selected(entries[k])) lines.Add((entries[k], i, k));
                }
                // Time order across workers and hosts; lines of one time stay in the order they arrived.
                var ordered = lines.OrderBy(l => l.Entry.Time).ThenBy(l => l.Host).ThenBy(l => l.Order).Select(l => l.Entry);
                if (Tail is { } tail) ordered = ordered.TakeLast(tail);
                foreach (var entry in ordered) WriteObject(entry);
                if (Follow) FollowNewLines(seen, news);
            }
            finally
            {
                if (Follow) foreach (var host in Hosts) host.Log -= wake;
                news.Dispose();
            }
        }
        finally
        {
            StopSource.Dispose();
        }
    }

    /// <summary>
    /// -Follow: writes each host's new lines as they arrive, on this (the pipeline's) thread, until Ctrl+C or
    /// every host has ended; a host's last lines (its workers' drain and stop) are written before it counts as ended.
    /// </summary>
    private void FollowNewLines(long[] seen, ManualResetEventSlim news)
    {
        while (!StopSource.IsCancellationRequested)
        {
            news.Reset();
            var ended = Hosts.All(h => h.Completion.IsCompleted);
            for (var i = 0; i < Hosts.Count; i++)
            {
                var after = seen[i];
                var entries = Hosts[i].RecentLog.Read(after, out seen[i]);
                // Lines that came and went out of the host's ring between two reads (a burst of more than it keeps):
                // said, not silently skipped.
                var missed = seen[i] - after - entries.Length;
                if (missed > 0)
                    WriteWarning($"{missed} lines of host '{Hosts[i].Name}' arrived faster than they could be written here and are not shown " +
                        $"(the host keeps its last {Hosts[i].RecentLog.Capacity}; Receive-Job has every line).");
                foreach (var entry in entries)
                    if (Selected(entry)) WriteObject(entry);
            }
            if (ended) return;
            try
            {
                news.Wait(FollowPoll, StopSource.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private bool Selected(WorkerLogEntry entry) =>
        entry.Level >= Level && (_workers is null || _workers.Any(p => p.IsMatch(entry.Worker)));
}
