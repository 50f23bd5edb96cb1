using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Calls an API of a serving host over HTTP, or over gRPC for a gRPC host, and returns its result as objects.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ServingApi", DefaultParameterSetName = OnlyLiveHostSet)]
[OutputType(typeof(PSObject), typeof(string), typeof(byte[]))]
public sealed class InvokeServingApiCommand : PSCmdlet
{
    private const string OnlyLiveHostSet = "OnlyLiveHost";
    private const string NameSet = "Name";
    private const string IdSet = "Id";
    private const string InputSet = "InputObject";
    private const string UrlSet = "Url";

    /// <summary>The API's route, e.g. /classify (the leading / may be left out).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Route { get; set; } = "";

    /// <summary>The input: a hashtable or object (sent as JSON), a string (sent as is), or bytes. None: an empty body.</summary>
    [Parameter(Position = 1)]
    public object? Body { get; set; }

    /// <summary>The name of a host of this session.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HostNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The Id of a host of this session (its job's Id).</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int Id { get; set; }

    /// <summary>A host from Get-ServingHost or Use-ServingHost, or the job from Start-ServingHost.</summary>
    [Parameter(ParameterSetName = InputSet, Mandatory = true, ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    /// <summary>The base URL of any Serving host, e.g. http://127.0.0.1:3000.</summary>
    [Parameter(ParameterSetName = UrlSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public Uri? Url { get; set; }

    /// <summary>With -Url: Http (default) or Grpc.</summary>
    [Parameter(ParameterSetName = UrlSet)]
    public ServingProtocol Protocol { get; set; } = ServingProtocol.Http;

    /// <summary>Seconds to wait for the answer. Default 100.</summary>
    [Parameter][ValidateRange(1, 86400)] public int TimeoutSec { get; set; } = 100;

    /// <summary>Return the answer as it came: JSON and text as one string, bytes as a byte array.</summary>
    [Parameter] public SwitchParameter Raw { get; set; }

    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing()
    {
        // A pipeline stopped after this command ended still calls StopProcessing: nothing is left to cancel.
        try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
    }

    protected override void EndProcessing() => _cancel.Dispose();

    protected override void ProcessRecord()
    {
        if (Target() is not var (url, protocol, generation)) return;
        var input = Input();
        ApiPayload output;
        try
        {
            output = ApiClient.CallAsync(url, protocol, Route, input, TimeSpan.FromSeconds(TimeoutSec), _cancel.Token, generation)
                .GetAwaiter().GetResult();
        }
        catch (ServingException e)
        {
            // One failed call is one error: the next piped host is still called.
            WriteError(ErrorRecords.From(e));
            return;
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        WriteOutput(output);
    }

    /// <summary>
    /// The URL, protocol and generation (0 for -Url: not known) the parameter set names; null (an error written) for
    /// a piped object that is no host.
    /// </summary>
    private (string Url, ServingProtocol Protocol, int Generation)? Target()
    {
        if (ParameterSetName == UrlSet) return (Url!.ToString().TrimEnd('/'), Protocol, 0);
        var info = ParameterSetName switch
        {
            NameSet => Single(HostSelection.ByName(new[] { Name }, out _).ToList(), $"named '{Name}'"),
            IdSet => Single(HostSelection.ById(new[] { Id }, out _).ToList(), $"with id {Id}"),
            InputSet => FromInput(InputObject),
            _ => OnlyLiveHost(),
        };
        return info is null ? null : (info.Url, info.Protocol, info.Generation);
    }

    private HostInfo Single(List<ServingHost> hosts, string what)
    {
        if (hosts.Count == 0) ThrowTerminatingError(HostSelection.NotFound(what));
        if (hosts.Count > 1)
            ThrowTerminatingError(ErrorRecords.From(ErrorIds.HostAmbiguous, ErrorCategory.InvalidArgument,
                $"-Name '{Name}' matches {hosts.Count} hosts ({string.Join(", ", hosts.Select(h => h.Name))}): name one.", Name));
        return hosts[0].Snapshot();
    }

    private HostInfo? FromInput(PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case HostInfo info: return info;
            case ServingHostJob job: return job.Host.Snapshot();
            case ServingHost host: return host.Snapshot();
            default:
                WriteError(ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.InvalidArgument,
                    $"'{item}' is not a serving host: pipe objects from Get-ServingHost, Use-ServingHost or Start-ServingHost, or give -Url.", item));
                return null;
        }
    }

    private HostInfo OnlyLiveHost() =>
        HostSelection.OnlyLive(this, () => ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
            "No serving host is running in this session: start one (Start-ServingHost), or give -Url.", null))!.Snapshot();

    /// <summary>-Body as a payload: bytes as they are, a string as text, anything else as ConvertTo-Json writes it.</summary>
    private ApiPayload Input() => (Body is PSObject p ? p.BaseObject : Body) switch
    {
        null => ApiPayload.Empty,
        byte[] bytes => ApiPayload.FromBytes(bytes),
        string text => ApiPayload.FromText(text),
        _ => ApiPayload.Json(PowerShellJson.Serialize(Body!)),
    };

    private void WriteOutput(ApiPayload output)
    {
        if (output.Kind == PayloadKind.Bytes)
            WriteObject(output.Bytes);
        else if (Raw || output.Kind == PayloadKind.Text)
            WriteObject(output.Text);
        else
            foreach (var item in PowerShellJson.Deserialize(output.Text)) WriteObject(item);
    }
}
