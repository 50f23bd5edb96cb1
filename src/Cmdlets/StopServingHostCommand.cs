using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Stops serving hosts gracefully: stop accepting, drain in-flight requests, then stop every worker.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "ServingHost", SupportsShouldProcess = true, DefaultParameterSetName = OnlyLiveHostSet)]
[OutputType(typeof(HostInfo))]
public sealed class StopServingHostCommand : HostTargetCommandBase
{
    /// <summary>
    /// No -Name, -Id or input: the session's only live host. A set no parameter declares, so PowerShell never prompts
    /// for the mandatory -Name of the other set.
    /// </summary>
    private const string OnlyLiveHostSet = "OnlyLiveHost";

    /// <summary>Seconds to drain in-flight requests before workers are killed. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Kill the workers at once, without draining.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Write each stopped host's final state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var host in ParameterSetName == OnlyLiveHostSet ? OnlyLiveHost() : SelectHosts())
        {
            if (!ShouldProcess($"{host.Name} ({host.Url})", "Stop serving host")) continue;
            var job = HostSnapshots.JobOf(host, JobRepository);
            var stop = job != null
                ? job.StopHostAsync(TimeSpan.FromSeconds(Timeout), Force)
                : host.StopAsync(TimeSpan.FromSeconds(Timeout), Force);
            try
            {
                stop.Wait(Cancellation);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C while draining: do not leave anything behind, kill now.
                host.StopAsync(TimeSpan.Zero, force: true).GetAwaiter().GetResult();
                throw new PipelineStoppedException();
            }
            if (PassThru) WriteObject(HostSnapshots.Take(host, JobRepository));
        }
    }

    /// <summary>
    /// The one live host, when no host was named. Several is a terminating error listing them: stopping one of
    /// them at random, or all, is not what a bare Stop-ServingHost should guess. None is not an error: a cleanup
    /// (a Pester AfterAll after a start that failed) has nothing to do, and says so with -Verbose.
    /// </summary>
    private IEnumerable<ServingHost> OnlyLiveHost()
    {
        var host = HostSelection.OnlyLive("Stop-ServingHost", out var ambiguous);
        if (ambiguous is not null) ThrowTerminatingError(ambiguous);
        if (host is null)
        {
            WriteVerbose("No serving host is running in this session: nothing to stop.");
            return Array.Empty<ServingHost>();
        }
        return new[] { host };
    }
}
