using System.Collections.Concurrent;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Serving.Commands;

/// <summary>
/// <para type="synopsis">Starts a multi-process serving host (API workers + runner workers) as a job, or in the foreground with -Wait.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "ServingHost", SupportsShouldProcess = true)]
[OutputType(typeof(ServingHostJob))]
[OutputType(typeof(WorkerLogEntry))]
public sealed class StartServingHostCommand : PlanningCommandBase
{
    /// <summary>The runtime's defaults (HostOptions): the parameters start from them, so they are written once.</summary>
    private static readonly HostOptions Defaults = new();

    /// <summary>The host's name; default: the service name (then name-2, ...).</summary>
    [Parameter][ValidatePattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")] public string? Name { get; set; }

    /// <summary>Seconds to wait for /readyz to answer 200. Default 60.</summary>
    [Parameter][ValidateRange(1, 3600)] public int StartTimeout { get; set; } = (int)Defaults.StartTimeout.TotalSeconds;

    /// <summary>Deadline of one API → runner call, in seconds. Default 60.</summary>
    [Parameter][ValidateRange(1, 3600)] public int RequestTimeout { get; set; } = (int)Defaults.RequestTimeout.TotalSeconds;

    /// <summary>Seconds in-flight requests may drain when -Wait stops on Ctrl+C / SIGTERM, or when the host ends because a worker is gone for good (respawn off). Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int StopTimeout { get; set; } = (int)Defaults.StopTimeout.TotalSeconds;

    /// <summary>
    /// The largest message (bytes) between a client and the gRPC front door and between API and runner
    /// workers. Default: none beyond the request body limit (32 MiB).
    /// </summary>
    [Parameter][ValidateRange(1024, int.MaxValue)] public int? MaxMessageSize { get; set; }

    /// <summary>Concurrent HTTP/2 streams per client connection. Default 100.</summary>
    [Parameter][ValidateRange(1, 10000)] public int MaxConcurrentStreams { get; set; } = Defaults.MaxConcurrentStreams;

    /// <summary>Run in the foreground, writing worker log lines, until Ctrl+C or SIGTERM.</summary>
    [Parameter] public SwitchParameter Wait { get; set; }

    /// <summary>Watch the service and start a new generation of workers when it changes; the old one serves until the new one is ready.</summary>
    [Parameter] public SwitchParameter Reload { get; set; }

    /// <summary>With -Reload: only changes to files matching these patterns reload (relative to the service directory). Default: every file.</summary>
    [Parameter][ValidateNotNullOrEmpty] public string[]? ReloadInclude { get; set; }

    /// <summary>With -Reload: changes to files matching these patterns never reload, on top of the defaults and .servingignore.</summary>
    [Parameter][ValidateNotNullOrEmpty] public string[]? ReloadExclude { get; set; }

    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void EndProcessing()
    {
        try
        {
            var plan = HostPlanner.Plan(PlatformSource.Resolve(null), LoadService(), BuildOptions());
            WritePlanMessages(plan);
            var name = HostRegistry.ChooseName(Name, plan.Service);
            if (!ShouldProcess($"{plan.Url} ({plan.ApiWorkers} API workers, runners {string.Join(", ", plan.Runners.Select(r => $"{r.Name} x{r.Workers}"))}, {plan.Transport})",
                    $"Start serving host '{name}' of service '{plan.Service}'"))
                return;

            if (!Reload && (ReloadInclude is not null || ReloadExclude is not null))
                WriteWarning("-ReloadInclude and -ReloadExclude have no effect without -Reload.");
            var launcher = ProcessWorkerLauncher.Locate(Path.Combine(ModuleFiles.ModuleBase, "worker"));
            var host = new ServingHost(plan, new HostOptions
            {
                Name = name,
                StartTimeout = TimeSpan.FromSeconds(StartTimeout),
                RequestTimeout = TimeSpan.FromSeconds(RequestTimeout),
                MaxMessageBytes = MaxMessageSize,
                MaxConcurrentStreams = MaxConcurrentStreams,
                StopTimeout = TimeSpan.FromSeconds(StopTimeout),
                ReadinessProbe = HostOptions.ProbeFor(plan.Protocol),
                Reload = Reload ? ReloadFrom(plan) : null,
            }, launcher, HostRegistry.NextId());
            var job = new ServingHostJob(host, MyInvocation.Line.Trim() is { Length: > 0 } line ? line : "Start-ServingHost");
            HostRegistry.Add(host);
            try
            {
                StartWithProgress(host);
            }
            catch
            {
                HostRegistry.Remove(host);
                job.Dispose();
                throw;
            }
            job.MarkRunning();
            JobRepository.Add(job);
            if (!Wait)
            {
                WriteObject(job);
                return;
            }
            var final = RunInForeground(job);
            // The host ended by itself (a worker gone for good with respawn off): a terminating error,
            // so `pwsh -c 'Start-ServingHost -Wait'` exits 1 and a container's restart policy acts.
            if (final.State == HostState.Failed)
                ThrowTerminatingError(ErrorRecords.From(ErrorIds.HostFailed, ErrorCategory.InvalidResult,
                    $"Host '{final.Name}' failed: {final.Reason}", final.Name));
        }
        catch (ServingException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C while starting: everything started was stopped by StartAsync.
        }
    }

    /// <summary>
    /// -Reload: each generation is planned like the first — the manifest read again from the same path,
    /// the same options and platform — for the same host (its id, so its socket directory).
    /// </summary>
    private ReloadOptions ReloadFrom(HostPlan plan)
    {
        var servicePath = Service is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Service);
        var options = BuildOptions() with { HostId = plan.HostId };
        var platform = plan.Platform;
        try
        {
            // The patterns are checked now, before anything starts: a bad one is the user's to fix.
            _ = new ReloadFilter(ReloadInclude, ReloadExclude, null);
        }
        catch (ArgumentException e)
        {
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                $"-ReloadInclude / -ReloadExclude: {e.Message}", e.ParamName);
        }
        return new ReloadOptions
        {
            Replan = () => HostPlanner.Plan(platform, ModuleFiles.LoadService(servicePath), options),
            Include = ReloadInclude,
            Exclude = ReloadExclude,
        };
    }

    /// <summary>Starts the host on the thread pool while this thread writes its progress.</summary>
    private void StartWithProgress(ServingHost host) =>
        ProgressPump.Run(this, 1, $"Starting serving host '{host.Name}'", progress => host.StartAsync(progress, _cancel.Token));

    /// <summary>-Wait: stream log lines until the host ends, or stop it on Ctrl+C / SIGTERM.</summary>
    private HostInfo RunInForeground(ServingHostJob job)
    {
        var host = job.Host;
        var lines = new BlockingCollection<WorkerLogEntry>();
        var reloadErrors = new ConcurrentQueue<ServingException>();
        host.Log += lines.Add;
        host.ReloadFailed += reloadErrors.Enqueue;
        using var sigterm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true; // we stop gracefully ourselves
            _cancel.Cancel();
        });
        try
        {
            WriteVerbose($"Serving '{host.Name}' at {host.Url}; Ctrl+C stops it.");
            Host.UI.WriteLine($"Serving '{host.Name}' at {host.Url} (Ctrl+C to stop)");
            while (!host.Completion.IsCompleted)
            {
                try
                {
                    if (lines.TryTake(out var entry, 200, _cancel.Token)) WriteObject(entry);
                    // A reload that did not go through is an error the console shows; serving goes on.
                    while (reloadErrors.TryDequeue(out var error)) WriteError(ErrorRecords.From(error));
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            if (!host.Completion.IsCompleted)
                job.StopHostAsync(TimeSpan.FromSeconds(StopTimeout), force: false).GetAwaiter().GetResult();
            host.Log -= lines.Add;
            host.ReloadFailed -= reloadErrors.Enqueue;
            JobRepository.Remove(job);
            job.Dispose();
        }
        // The workers' last words (drain, stop); after Ctrl+C the pipeline is stopping and takes no more.
        if (!Stopping)
            foreach (var entry in lines.ToArray()) WriteObject(entry);
        return host.Snapshot();
    }
}
