using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// The parameters shared by Get-ServingPlan and Start-ServingHost, so that a plan shown is exactly
/// the plan carried out.
/// </summary>
public abstract class PlanningCommandBase : PSCmdlet
{
    /// <summary>The service manifest (.psd1) or its directory; the embedded demo service when omitted.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServiceManifestCompleter))]
    public string? Service { get; set; }

    /// <summary>The API protocol: Http (default) or Grpc.</summary>
    [Parameter] public ServingProtocol Protocol { get; set; } = ServingProtocol.Http;

    /// <summary>One process for API and runners (also allows gRPC on Windows).</summary>
    [Parameter] public SwitchParameter Development { get; set; }

    /// <summary>Runner transport: Auto (the platform rule), Uds or Tcp.</summary>
    [Parameter] public TransportChoice Transport { get; set; } = TransportChoice.Auto;

    /// <summary>Respawn crashed workers: Auto (not inside a container), Always, Never.</summary>
    [Parameter] public RespawnChoice Respawn { get; set; } = RespawnChoice.Auto;

    /// <summary>API worker processes; default: the cgroup-aware processor count.</summary>
    [Parameter][ValidateRange(1, 1024)] public int ApiWorkers { get; set; }

    /// <summary>The API port (default 3000; 0 = any free port, HTTP only).</summary>
    [Parameter][ValidateRange(0, 65535)] public int Port { get; set; } = PlanOptions.DefaultPort;

    /// <summary>A second port, HTTP/1.1, answering only /metrics and the probes (for Prometheus; a gRPC host's API port is HTTP/2 only).</summary>
    [Parameter][ValidateRange(1, 65535)] public int MetricsPort { get; set; }

    /// <summary>An IP literal or 'localhost'; default 127.0.0.1, or 0.0.0.0 (with a warning) inside a container.</summary>
    [Parameter][ValidateNotNullOrEmpty] public string? HostAddress { get; set; }

    /// <summary>Base directory for the host's private socket directory (default: the temp directory).</summary>
    [Parameter][ValidateNotNullOrEmpty] public string? SocketDirectory { get; set; }

    /// <summary>The plan options the bound parameters describe.</summary>
    protected PlanOptions BuildOptions() => new()
    {
        Protocol = Protocol,
        Development = Development,
        Transport = Transport,
        Respawn = Respawn,
        ApiWorkers = MyInvocation.BoundParameters.ContainsKey(nameof(ApiWorkers)) ? ApiWorkers : null,
        Port = Port,
        MetricsPort = MyInvocation.BoundParameters.ContainsKey(nameof(MetricsPort)) ? MetricsPort : null,
        HostAddress = HostAddress,
        SocketDirectory = SocketDirectory is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SocketDirectory),
    };

    /// <summary>Writes how the plan's defaults were chosen (-Verbose) and its warnings: the same lines from
    /// Get-ServingPlan and Start-ServingHost (whose launch adds its own warnings to the plan's).</summary>
    protected void WritePlanMessages(HostPlan plan, IEnumerable<string>? warnings = null)
    {
        foreach (var explanation in plan.Explanations) WriteVerbose(explanation);
        foreach (var warning in warnings ?? plan.Warnings) WriteWarning(warning);
    }

    /// <summary>Loads and verifies the service named by -Service (paths relative to the current location).</summary>
    protected ServiceDefinition LoadService() =>
        ModuleFiles.LoadService(Service is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Service));
}
