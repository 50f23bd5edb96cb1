using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// The child job of one worker slot: its log lines are this job's output (Receive-Job), the reason
/// a worker is gone for good is its error. A respawned worker stays in the same child job.
/// </summary>
public sealed class ServingWorkerJob : Job
{
    private readonly ServingHost _host;

    internal ServingWorkerJob(ServingHost host, string workerName) : base(host.Name + " " + workerName, workerName)
    {
        _host = host;
        PSJobTypeName = "ServingWorker";
        SetJobState(JobState.Running);
    }

    public override string StatusMessage =>
        _host.Workers.FirstOrDefault(w => w.Name == Name) is { } slot ? $"{slot.State} (pid {slot.Pid}, restarts {slot.Restarts})" : "";

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0;

    public override string Location => _host.Url;

    /// <summary>
    /// Stop-Job on one worker's job restarts that worker (it drains for up to 30 s and is started again
    /// at once); the host keeps running. Stop-Job on the host's job, or Stop-ServingHost, stops the host.
    /// </summary>
    public override void StopJob() => _host.RestartWorkerAsync(Name, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    internal void Add(WorkerLogEntry entry)
    {
        // A finished job's streams are closed; a late line (a worker's last words racing its exit)
        // is still in Get-ServingHost's recent lines, and must not fail the supervisor's callback.
        if (!Output.IsOpen) return;
        try
        {
            Output.Add(PSObject.AsPSObject(entry));
        }
        catch (PSInvalidOperationException)
        {
            // Closed between the check and the add.
        }
    }

    /// <summary>Moves to a finished state once; later calls are ignored (finished states are final).</summary>
    internal void Finish(JobState state, string? reason)
    {
        if (IsFinished(JobStateInfo.State)) return;
        if (reason != null)
            Error.Add(ErrorRecords.From(ErrorIds.WorkerFailed, ErrorCategory.InvalidResult, reason, Name));
        SetJobState(state);
    }

    internal static bool IsFinished(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;
}
