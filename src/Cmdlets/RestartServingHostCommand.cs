using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Restarts a serving host's workers one at a time, each new process ready before the old one drains: no request fails.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "ServingHost", SupportsShouldProcess = true, DefaultParameterSetName = OnlyLiveHostSet)]
[OutputType(typeof(HostInfo))]
public sealed class RestartServingHostCommand : HostTargetCommandBase
{
    /// <summary>Restart only this runner's workers.</summary>
    [Parameter][ValidateNotNullOrEmpty] public string? Runner { get; set; }

    /// <summary>Seconds each replaced process may drain before it is killed. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Write each restarted host's state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var host in SelectHosts())
        {
            var which = Runner is null ? "every worker" : $"runner '{Runner}''s workers";
            if (!ShouldProcess($"{host.Name} ({host.Url})", $"Restart {which}, one at a time")) continue;
            var drain = TimeSpan.FromSeconds(Timeout);
            if (RunWithProgress(host, $"Restarting serving host '{host.Name}'", progress => host.RestartAsync(Runner, drain, progress)) && PassThru)
                WriteObject(HostSnapshots.Take(host, JobRepository));
        }
    }
}
