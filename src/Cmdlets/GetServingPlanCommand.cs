using System.Collections;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Computes what Start-ServingHost would do, without starting or changing anything.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServingPlan", DefaultParameterSetName = ProbeSet)]
[OutputType(typeof(HostPlan))]
public sealed class GetServingPlanCommand : PlanningCommandBase
{
    private const string ProbeSet = "Probe";
    private const string PlatformSet = "Platform";
    private const string AssumeSet = "Assume";

    /// <summary>Plan for this platform (e.g. from Get-ServingPlatform -Assume) instead of this machine.</summary>
    [Parameter(ParameterSetName = PlatformSet, ValueFromPipeline = true, Mandatory = true)]
    public PlatformInfo? Platform { get; set; }

    /// <summary>Shorthand for -Platform (Get-ServingPlatform -Assume ...).</summary>
    [Parameter(ParameterSetName = AssumeSet, Mandatory = true)]
    public Hashtable? Assume { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var platform = ParameterSetName switch
            {
                PlatformSet => Platform!,
                AssumeSet => PlatformSource.Resolve(Assume),
                _ => PlatformSource.Resolve(null),
            };
            var plan = HostPlanner.Plan(platform, LoadService(), BuildOptions());
            WritePlanMessages(plan);
            WriteObject(plan);
        }
        catch (ServingException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }
}
