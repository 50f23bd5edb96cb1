using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Stops serving hosts gracefully: stop accepting, drain in-flight requests, then stop every worker.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "ServingHost", SupportsShouldProcess = true, DefaultParameterSetName = OnlyLiveHostSet)]
[OutputType(typeof(HostInfo))]
public sealed class StopServingHostCommand : HostTargetCommandBase
{
    /// <summary>Seconds to drain in-flight requests before workers are killed. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Kill the workers at once, without draining.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Write each stopped host's final state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // Given no host and none running, there is nothing to stop: a cleanup (a Pester AfterAll after a start
        // that failed) must not fail.
        foreach (var host in SelectHosts(noneIsError: false))
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
}
