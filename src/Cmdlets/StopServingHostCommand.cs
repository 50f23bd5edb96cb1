using System.Management.Automation;

namespace Serving.Commands;

/// <summary>
/// <para type="synopsis">Stops serving hosts gracefully: stop accepting, drain in-flight requests, then stop every worker.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "ServingHost", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HostInfo))]
public sealed class StopServingHostCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";
    private const string InputSet = "InputObject";

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

    /// <summary>Seconds to drain in-flight requests before workers are killed. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Kill the workers at once, without draining.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Write each stopped host's final state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void ProcessRecord()
    {
        List<string> unmatched = new();
        IEnumerable<ServingHost> hosts = ParameterSetName switch
        {
            IdSet => HostSelection.ById(Id, out unmatched),
            InputSet => Resolve(InputObject),
            _ => HostSelection.ByName(Name, out unmatched),
        };
        foreach (var missing in unmatched)
            WriteError(HostSelection.NotFound(ParameterSetName == IdSet ? $"with id {missing}" : $"named '{missing}'"));
        foreach (var host in hosts)
        {
            if (!ShouldProcess($"{host.Name} ({host.Url})", "Stop serving host")) continue;
            var job = JobRepository.Jobs.OfType<ServingHostJob>().FirstOrDefault(j => ReferenceEquals(j.Host, host));
            var stop = job != null
                ? job.StopHostAsync(TimeSpan.FromSeconds(Timeout), Force)
                : host.StopAsync(TimeSpan.FromSeconds(Timeout), Force);
            try
            {
                stop.Wait(_cancel.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C while draining: do not leave anything behind, kill now.
                host.StopAsync(TimeSpan.Zero, force: true).GetAwaiter().GetResult();
                throw new PipelineStoppedException();
            }
            if (PassThru) WriteObject(host.Snapshot());
        }
    }

    private IEnumerable<ServingHost> Resolve(PSObject[] items)
    {
        foreach (var item in items)
        {
            var host = HostSelection.FromObject(item);
            if (host is null)
                WriteError(ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.InvalidArgument,
                    $"'{item}' is not a serving host: pipe objects from Get-ServingHost or Start-ServingHost.", item));
            else
                yield return host;
        }
    }
}
