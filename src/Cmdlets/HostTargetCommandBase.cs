using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// A cmdlet that acts on live hosts named by -Name (wildcards), -Id, or piped in (-InputObject), or, given
/// none of them, on the session's only live host: Stop-, Restart- and Set-ServingHost select them the same
/// way and report the same errors.
/// </summary>
public abstract class HostTargetCommandBase : PSCmdlet
{
    /// <summary>
    /// No -Name, -Id or input: the session's only live host. A set no parameter declares (each derived cmdlet
    /// makes it its default), so PowerShell never prompts for the mandatory -Name of the other set.
    /// </summary>
    protected const string OnlyLiveHostSet = "OnlyLiveHost";
    protected const string NameSet = "Name";
    protected const string IdSet = "Id";
    protected const string InputSet = "InputObject";

    /// <summary>Host names; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0, Mandatory = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HostNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Host ids.</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int[] Id { get; set; } = Array.Empty<int>();

    /// <summary>Hosts from Get-ServingHost, or the jobs Start-ServingHost returned.</summary>
    [Parameter(ParameterSetName = InputSet, Mandatory = true, ValueFromPipeline = true)]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Cancelled on Ctrl+C.</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>
    /// The hosts this record names; a name, id or piped object that matches none is a non-terminating error.
    /// Given no host, the session's only live host (<see cref="HostSelection.OnlyLive"/>: several are HostAmbiguous);
    /// none is nothing to do when <paramref name="noneIsError"/> is false (a cleanup, said with -Verbose), else a
    /// HostNotFound error.
    /// </summary>
    protected IEnumerable<ServingHost> SelectHosts(bool noneIsError = true)
    {
        if (ParameterSetName != OnlyLiveHostSet)
            return HostSelection.Select(this, ParameterSetName, Name, Id, InputObject);

        var command = MyInvocation.MyCommand.Name;
        var host = HostSelection.OnlyLive(this, noneIsError
            ? () => ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
                $"{command} was given no host, and none is running in this session. Start one with Start-ServingHost.", command)
            : null);
        if (host is not null) return new[] { host };
        WriteVerbose($"No serving host is running in this session: {command} has nothing to do.");
        return Array.Empty<ServingHost>();
    }

    /// <summary>
    /// Runs a host operation while this thread writes its progress (<see cref="ProgressPump"/>); a failure
    /// is a non-terminating error for this host, so the next piped host is still processed. Ctrl+C
    /// stops the pipeline; what the operation already did stays done, and the host finishes what it began.
    /// </summary>
    protected bool RunWithProgress(ServingHost host, string activity, Func<IProgress<(int Percent, string Status)>, Task> operation)
    {
        try
        {
            ProgressPump.Run(this, 2, activity, operation, Cancellation);
            return true;
        }
        catch (ServingException e)
        {
            WriteError(ErrorRecords.From(e));
            return false;
        }
    }
}
