using System.ComponentModel;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// A running host as a PowerShell job: Get-Job finds it, Receive-Job gives its workers' log lines
/// (one child job per worker), Wait-Job waits until the host ends, Stop-Job stops it gracefully.
/// The job's state follows the supervisor's events; nothing else sets it.
/// The job is made before its host, which takes the job's Id (<see cref="HostLaunch.StartAsync"/>): one number
/// names both, so Get-ServingHost's Id works with Stop-Job -Id, Receive-Job -Id and Wait-Job -Id.
/// </summary>
public sealed class ServingHostJob : Job2
{
    /// <summary>The drain timeout Stop-Job uses (Stop-ServingHost -Timeout chooses its own).</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, ServingWorkerJob> _workers = new(StringComparer.Ordinal);
    private bool _stopRequested;
    private ServingHost? _host;

    /// <summary>A job for the host about to start as <paramref name="name"/>; PowerShell gives it its Id here.</summary>
    internal ServingHostJob(string command, string name) : base(command, name)
    {
        PSJobTypeName = "ServingHost";
    }

    /// <summary>
    /// Binds the job to its host, created with this job's Id, before any worker starts: each worker's child job
    /// has its first lines.
    /// </summary>
    internal void Attach(ServingHost host)
    {
        if (_host is not null) throw new InvalidOperationException("The job already has its host.");
        if (host.Id != Id) throw new InvalidOperationException($"Host id {host.Id} is not the job's id {Id}.");
        _host = host;
        host.Log += OnLog;
        host.WorkerChanged += OnWorkerChanged;
        host.StateChanged += OnHostStateChanged;
        host.ReloadFailed += OnReloadFailed;
    }

    /// <summary>A reload that did not go through: an error in the job's error stream; the job (and the old generation) goes on.</summary>
    private void OnReloadFailed(ServingException error)
    {
        if (Error.IsOpen) Error.Add(ErrorRecords.From(error));
    }

    /// <summary>The supervisor behind this job; the job is in no repository before it has one.</summary>
    public ServingHost Host => _host ?? throw new InvalidOperationException("The job's host has not been created yet.");

    public override string StatusMessage
    {
        get
        {
            var info = Host.Snapshot();
            return info.Reason.Length > 0 ? $"{info.State}: {info.Reason}" : info.State.ToString();
        }
    }

    public override bool HasMoreData
    {
        get
        {
            lock (_workers) return Output.Count > 0 || Error.Count > 0 || _workers.Values.Any(w => w.HasMoreData);
        }
    }

    public override string Location => Host.Url;

    /// <summary>Called once the host is ready: from here on the job mirrors the host.</summary>
    internal void MarkRunning() => SetJobState(JobState.Running);

    private ServingWorkerJob Child(string worker)
    {
        lock (_workers)
        {
            if (!_workers.TryGetValue(worker, out var job))
            {
                job = new ServingWorkerJob(Host, worker);
                _workers[worker] = job;
                ChildJobs.Add(job);
            }
            return job;
        }
    }

    private void OnLog(WorkerLogEntry entry) => Child(entry.Worker).Add(entry);

    private void OnWorkerChanged(WorkerInfo worker)
    {
        var child = Child(worker.Name);
        switch (worker.State)
        {
            case WorkerState.Failed:
                child.Finish(JobState.Failed, $"Worker {worker.Name} failed (last exit code {worker.LastExitCode}); see Receive-Job for its last lines.");
                break;
            case WorkerState.Exited:
                child.Finish(JobState.Failed, $"Worker {worker.Name} exited with code {worker.LastExitCode} and is not respawned (respawn is off): the host ends.");
                break;
            case WorkerState.Stopped:
                child.Finish(JobState.Stopped, null);
                break;
        }
    }

    private void OnHostStateChanged(HostState state)
    {
        switch (state)
        {
            case HostState.Stopped:
                if (IsFinishedOrNotStarted()) return;
                SetJobState(_stopRequested ? JobState.Stopped : JobState.Completed);
                break;
            case HostState.Failed:
                if (IsFinishedOrNotStarted()) return;
                Error.Add(ErrorRecords.From(ErrorIds.HostFailed, ErrorCategory.InvalidResult,
                    $"Host '{Host.Name}' failed: {Host.Snapshot().Reason}", Host.Name));
                SetJobState(JobState.Failed);
                break;
        }
    }

    private bool IsFinishedOrNotStarted() =>
        JobStateInfo.State is JobState.NotStarted || ServingWorkerJob.IsFinished(JobStateInfo.State);

    /// <summary>Stops the host; used by Stop-ServingHost so the job ends as Stopped.</summary>
    internal Task StopHostAsync(TimeSpan timeout, bool force)
    {
        _stopRequested = true;
        if (!ServingWorkerJob.IsFinished(JobStateInfo.State)) SetJobState(JobState.Stopping);
        return Host.StopAsync(timeout, force);
    }

    public override void StopJob() => StopJob(force: false, reason: null);

    public override void StopJob(bool force, string? reason) => StopHostAsync(DefaultStopTimeout, force).GetAwaiter().GetResult();

    public override void StopJobAsync() => StopJobAsync(force: false, reason: null);

    public override void StopJobAsync(bool force, string? reason)
    {
        // Stop-Job waits for OnStopJobCompleted: it must be raised, success or not.
        StopHostAsync(DefaultStopTimeout, force).ContinueWith(
            t => OnStopJobCompleted(new AsyncCompletedEventArgs(t.Exception?.GetBaseException(), false, null)),
            TaskScheduler.Default);
    }

    public override void StartJob() => throw new PSNotSupportedException("A serving host job starts with Start-ServingHost.");
    public override void StartJobAsync() => throw new PSNotSupportedException("A serving host job starts with Start-ServingHost.");
    public override void SuspendJob() => throw new PSNotSupportedException("A serving host cannot be suspended; stop it with Stop-ServingHost.");
    public override void SuspendJobAsync() => SuspendJob();
    public override void SuspendJob(bool force, string? reason) => SuspendJob();
    public override void SuspendJobAsync(bool force, string? reason) => SuspendJob();
    public override void ResumeJob() => throw new PSNotSupportedException("A serving host cannot be suspended or resumed.");
    public override void ResumeJobAsync() => ResumeJob();
    public override void UnblockJob() => throw new PSNotSupportedException("A serving host job never blocks.");
    public override void UnblockJobAsync() => UnblockJob();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _host is not null)
        {
            Host.Log -= OnLog;
            Host.WorkerChanged -= OnWorkerChanged;
            Host.StateChanged -= OnHostStateChanged;
            Host.ReloadFailed -= OnReloadFailed;
            // Remove-Job of a live host stops it: nothing may outlive its job.
            if (!Host.Completion.IsCompleted) Host.StopAsync(TimeSpan.Zero, force: true).GetAwaiter().GetResult();
            HostRegistry.Remove(Host);
            Host.Dispose();
        }
        base.Dispose(disposing);
    }
}
