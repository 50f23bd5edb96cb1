using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// Starts a prepared launch as a <see cref="ServingHostJob"/>, the one way Start-ServingHost and Use-ServingHost do
/// it: the job first (PowerShell gives it its Id), then the host with that Id, attached before any worker starts.
/// </summary>
internal static class HostJobStarter
{
    /// <summary>
    /// Starts the host under a progress bar and adds its job to the session's repository. When the start fails or is
    /// cancelled the launch has stopped what it started, the job is disposed, and the launch's exception is rethrown:
    /// nothing of it is left in the session.
    /// </summary>
    public static ServingHostJob Start(PSCmdlet cmdlet, HostLaunch launch, string command, CancellationToken cancellationToken)
    {
        var job = new ServingHostJob(command, launch.Name);
        try
        {
            ProgressPump.Run(cmdlet, 1, $"Starting serving host '{launch.Name}'",
                progress => launch.StartAsync(job.Id, job.Attach, progress, cancellationToken));
        }
        catch
        {
            job.Dispose();
            throw;
        }
        job.MarkRunning();
        cmdlet.JobRepository.Add(job);
        return job;
    }

    /// <summary>The launcher of the module's own worker build (out/Serving/worker).</summary>
    public static IWorkerLauncher WorkerLauncher() => ProcessWorkerLauncher.Locate(Path.Combine(ModuleFiles.ModuleBase, "worker"));
}
