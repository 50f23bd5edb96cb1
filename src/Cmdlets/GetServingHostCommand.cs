using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Gets the serving hosts of this session: state, endpoints, transport and every worker.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServingHost", DefaultParameterSetName = NameSet)]
[OutputType(typeof(HostInfo))]
public sealed class GetServingHostCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";

    /// <summary>Host names; wildcards allowed. All hosts when omitted.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HostNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Host ids (the Id property).</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int[] Id { get; set; } = Array.Empty<int>();

    protected override void ProcessRecord()
    {
        List<string> unmatched;
        var hosts = ParameterSetName == IdSet ? HostSelection.ById(Id, out unmatched) : HostSelection.ByName(Name, out unmatched);
        foreach (var host in hosts) WriteObject(HostSnapshots.Take(host, JobRepository));
        foreach (var missing in unmatched)
            WriteError(HostSelection.NotFound(ParameterSetName == IdSet ? $"with id {missing}" : $"named '{missing}'"));
    }
}
