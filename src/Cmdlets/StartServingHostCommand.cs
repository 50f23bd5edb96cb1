using System.Collections.Concurrent;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Starts a multi-process serving host (API workers + runner workers) as a job, or in the foreground with -Wait.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "ServingHost", SupportsShouldProcess = true)]
[OutputType(typeof(ServingHostJob))]
[OutputType(typeof(string))]
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

    /// <summary>Run in the foreground, writing the host's log lines (one string per line, never wrapped), until Ctrl+C or SIGTERM.</summary>
    [Parameter] public SwitchParameter Wait { get; set; }

    /// <summary>How workers write their log lines, and -Wait every line: Text (default) or Json (one object per line).</summary>
    [Parameter] public LogFormat LogFormat { get; set; } = Defaults.LogFormat;

    /// <summary>The lowest level logged: Trace, Debug, Information (default), Warning, Error or Critical.</summary>
    [Parameter] public LogLevel LogLevel { get; set; } = Defaults.LogLevel;

    /// <summary>One log line per API request (method, route, status, duration, bytes, generation, request id).</summary>
    [Parameter] public SwitchParameter AccessLog { get; set; }

    /// <summary>Watch the service and start a new generation of workers when it changes; the old one serves until the new one is ready.</summary>
    [Parameter] public SwitchParameter Reload { get; set; }

    /// <summary>With -Reload: only changes to files matching these patterns reload (relative to the service directory). Default: every file.</summary>
    [Parameter][SupportsWildcards][ValidateNotNullOrEmpty] public string[]? ReloadInclude { get; set; }

    /// <summary>With -Reload: changes to files matching these patterns never reload, on top of the defaults and .servingignore.</summary>
    [Parameter][SupportsWildcards][ValidateNotNullOrEmpty] public string[]? ReloadExclude { get; set; }

    private readonly CancellationTokenSource _cancel = new();

    /// <summary>A line of a Project's first build, as the start's progress (a reload's build lines are the reloader's).</summary>
    private void WriteBuildProgress(string line)
    {
        if (line.Trim().Length > 0)
            WriteProgress(new ProgressRecord(2, "Building the service's project", line.Trim()));
    }

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void EndProcessing()
    {
        try
        {
            var servicePath = Service is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Service);
            var launch = HostLaunch.Prepare(new HostRequest
            {
                Name = Name,
                // The first load is Prepare's, on this thread: a Project's build shows as progress. A reload's runs on
                // the watcher's thread, where nothing may be written; its build errors come back as ReloadFailed.
                LoadService = buildOutput => ModuleFiles.LoadService(servicePath, buildOutput ?? WriteBuildProgress),
                Platform = PlatformSource.Resolve(null),
                PlanOptions = BuildOptions(),
                Options = new HostOptions
                {
                    StartTimeout = TimeSpan.FromSeconds(StartTimeout),
                    RequestTimeout = TimeSpan.FromSeconds(RequestTimeout),
                    MaxMessageBytes = MaxMessageSize,
                    MaxConcurrentStreams = MaxConcurrentStreams,
                    StopTimeout = TimeSpan.FromSeconds(StopTimeout),
                    LogFormat = LogFormat,
                    LogLevel = LogLevel,
                    AccessLog = AccessLog,
                },
                Reload = Reload,
                ReloadInclude = ReloadInclude,
                ReloadExclude = ReloadExclude,
                Launcher = HostJobStarter.WorkerLauncher(),
            });
            WritePlanMessages(launch.Plan, launch.Warnings);
            if (!ShouldProcess(launch.Summary, $"Start serving host '{launch.Name}' of service '{launch.Plan.Service}'"))
                return;

            var command = MyInvocation.Line.Trim() is { Length: > 0 } line ? line : "Start-ServingHost";
            // A start that fails or is cancelled (Ctrl+C) has stopped everything it started, its job included.
            var job = HostJobStarter.Start(this, launch, command, _cancel.Token);
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
            // Ctrl+C during the start: the start cleaned up; the pipeline is stopping.
        }
    }

    /// <summary>
    /// -Wait: write the host's log lines until the host ends, or stop it on Ctrl+C / SIGTERM. Each line is a string
    /// in the host's -LogFormat (<see cref="ConsoleLogLine"/>), not an object: a format view would wrap or cut it
    /// at the console's width, which outside a terminal (docker logs, journald) is 80 columns.
    /// </summary>
    private HostInfo RunInForeground(ServingHostJob job)
    {
        var host = job.Host;
        var lines = new BlockingCollection<WorkerLogEntry>();
        var reloadErrors = new ConcurrentQueue<ServingException>();
        var written = new HashSet<WorkerLogEntry>(ReferenceEqualityComparer.Instance);
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
            // The start's lines (workers started, listening) came before this subscribed: the host kept them. A line
            // both kept and queued (it arrived in between) is the same object, and is written once.
            foreach (var entry in host.RecentLog.Read(0, out _))
            {
                written.Add(entry);
                WriteObject(ConsoleLogLine.Format(entry, host.LogFormat));
            }
            WriteHostLine(host, LogLevel.Information, $"serving '{host.Name}' at {host.Url} (Ctrl+C to stop)");
            while (!host.Completion.IsCompleted)
            {
                try
                {
                    if (lines.TryTake(out var entry, 200, _cancel.Token) && !written.Remove(entry))
                        WriteObject(ConsoleLogLine.Format(entry, host.LogFormat));
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
            {
                // After Ctrl+C the pipeline takes no more output; after SIGTERM (a container's stop) it does, and says so.
                if (!Stopping) WriteHostLine(host, LogLevel.Information, $"stopping: draining for up to {StopTimeout} s");
                job.StopHostAsync(TimeSpan.FromSeconds(StopTimeout), force: false).GetAwaiter().GetResult();
            }
            host.Log -= lines.Add;
            host.ReloadFailed -= reloadErrors.Enqueue;
            JobRepository.Remove(job);
            job.Dispose();
        }
        var final = host.Snapshot();
        // The workers' last words (drain, stop); after Ctrl+C the pipeline is stopping and takes no more.
        if (!Stopping)
        {
            foreach (var entry in lines.ToArray())
                if (!written.Contains(entry)) WriteObject(ConsoleLogLine.Format(entry, host.LogFormat));
            WriteHostLine(host, final.State == HostState.Failed ? LogLevel.Critical : LogLevel.Information,
                final.State == HostState.Failed ? $"failed: {final.Reason}" : "stopped");
        }
        return final;
    }

    /// <summary>A line of the host's own (start, stop) in the console's format, as the supervisor's lines about workers are.</summary>
    private void WriteHostLine(ServingHost host, LogLevel level, string message)
    {
        if (level < host.LogLevel) return;
        WriteObject(ConsoleLogLine.Format(new WorkerLogEntry
        {
            Time = DateTimeOffset.Now,
            Host = host.Name,
            Worker = "supervisor",
            Pid = Environment.ProcessId,
            Stream = "supervisor",
            Event = "host",
            Level = level,
            Message = message,
        }, host.LogFormat));
    }
}
