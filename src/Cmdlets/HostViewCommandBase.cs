using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// A cmdlet that looks at hosts named by -Name (wildcards; every host of the session when omitted), -Id, or piped
/// in (-InputObject), gathered over the pipeline and used at its end: Get-ServingLog and Watch-ServingHost.
/// Unlike <see cref="HostTargetCommandBase"/> (which acts on hosts), -Name is optional.
/// </summary>
public abstract class HostViewCommandBase : PSCmdlet
{
    protected const string NameSet = "Name";
    protected const string IdSet = "Id";
    protected const string InputSet = "InputObject";

    /// <summary>Host names; wildcards allowed. Every host of the session when omitted.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HostNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Host ids.</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int[] Id { get; set; } = Array.Empty<int>();

    /// <summary>Hosts from Get-ServingHost, or the jobs Start-ServingHost returned.</summary>
    [Parameter(ParameterSetName = InputSet, Mandatory = true, ValueFromPipeline = true)]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    /// <summary>The hosts selected so far, each once, in the order they were first named.</summary>
    protected List<ServingHost> Hosts { get; } = new();

    /// <summary>A name, id or piped object matched no host (its error was written).</summary>
    protected bool SelectionFailed { get; private set; }

    /// <summary>Cancelled on Ctrl+C.</summary>
    protected CancellationTokenSource StopSource { get; } = new();

    protected override void StopProcessing() => StopSource.Cancel();

    protected override void ProcessRecord()
    {
        foreach (var host in HostSelection.Select(this, ParameterSetName, Name, Id, InputObject, () => SelectionFailed = true))
            if (!Hosts.Contains(host)) Hosts.Add(host);
    }
}
