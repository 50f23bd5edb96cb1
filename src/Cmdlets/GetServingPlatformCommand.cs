using System.Collections;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Shows what this machine supports for serving and what the host will choose on it.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServingPlatform")]
[OutputType(typeof(PlatformInfo))]
public sealed class GetServingPlatformCommand : PSCmdlet
{
    /// <summary>Facts to assume instead of probing this machine (keys: see PlatformFacts.AssumptionKeys).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNull]
    public Hashtable? Assume { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            WriteObject(PlatformSource.Resolve(Assume));
        }
        catch (ServingException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }
}
