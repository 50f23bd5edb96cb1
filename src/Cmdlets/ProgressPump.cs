using System.Collections.Concurrent;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// Runs a long host operation (start, restart, scale) on the thread pool while the pipeline thread —
/// the only one that may write to PowerShell — shows its progress; then rethrows what it threw.
/// </summary>
internal static class ProgressPump
{
    /// <summary>
    /// Pumps <paramref name="operation"/>'s progress reports into progress records of
    /// <paramref name="activity"/> until it completes, then completes the record and returns its
    /// result (or throws its exception). A report wakes the pipeline thread at once. When
    /// <paramref name="abandon"/> is cancelled (Ctrl+C) the pipeline stops waiting and the operation
    /// goes on by itself; an operation that must finish its own cleanup first observes its own token instead.
    /// </summary>
    public static void Run(Cmdlet cmdlet, int activityId, string activity, Func<IProgress<(int Percent, string Status)>, Task> operation,
        CancellationToken abandon = default)
    {
        var reports = new Reports();
        var record = new ProgressRecord(activityId, activity, "Starting");
        var task = operation(reports);
        task.ContinueWith(_ => reports.Wake(), TaskScheduler.Default);
        try
        {
            while (!task.IsCompleted)
            {
                if (abandon.IsCancellationRequested) throw new PipelineStoppedException();
                reports.WaitForNews(TimeSpan.FromMilliseconds(100));
                foreach (var (percent, status) in reports.Drain())
                {
                    record.PercentComplete = percent;
                    record.StatusDescription = status;
                    cmdlet.WriteProgress(record);
                }
            }
        }
        finally
        {
            record.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(record);
        }
        task.GetAwaiter().GetResult();
    }

    private sealed class Reports : IProgress<(int Percent, string Status)>
    {
        private readonly ConcurrentQueue<(int, string)> _reports = new();
        private readonly SemaphoreSlim _news = new(0);

        public void Report((int Percent, string Status) value)
        {
            _reports.Enqueue(value);
            Wake();
        }

        public void Wake() => _news.Release();

        public void WaitForNews(TimeSpan timeout) => _news.Wait(timeout);

        public IEnumerable<(int Percent, string Status)> Drain()
        {
            while (_reports.TryDequeue(out var r)) yield return r;
        }
    }
}
