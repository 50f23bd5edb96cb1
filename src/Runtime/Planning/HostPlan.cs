namespace Serving.Runtime.Planning;

/// <summary>
/// Everything the supervisor will do, decided before anything starts. Produced by
/// <see cref="HostPlanner.Plan"/> (pure); shown by Get-ServingPlan; carried out by Start-ServingHost.
/// </summary>
public sealed record HostPlan
{
    public string HostId { get; init; } = "";
    public string Service { get; init; } = "";
    public ServingProtocol Protocol { get; init; }
    public ServingMode Mode { get; init; }
    public int ApiWorkers { get; init; }
    public int Port { get; init; }
    public string HostAddress { get; init; } = "";
    /// <summary>The URL a client on this machine uses.</summary>
    public string Url { get; init; } = "";
    /// <summary>The metrics port (-MetricsPort), or null: /metrics on the API port only.</summary>
    public int? MetricsPort { get; init; }
    /// <summary>
    /// Where Prometheus (HTTP/1.1) scrapes the host's metrics: the metrics port, else the API port of an HTTP
    /// host; empty for a gRPC host without a metrics port (its /metrics answers over h2c only).
    /// </summary>
    public string MetricsUrl { get; init; } = "";
    public bool Respawn { get; init; }
    public RunnerTransport Transport { get; init; }
    /// <summary>The host's private socket directory (mode 0700), or empty when no Unix sockets are used.</summary>
    public string SocketDirectory { get; init; } = "";
    public RunnerPlan[] Runners { get; init; } = Array.Empty<RunnerPlan>();
    /// <summary>Things the user should know; Get-ServingPlan and Start-ServingHost write each with Write-Warning.</summary>
    public string[] Warnings { get; init; } = Array.Empty<string>();
    /// <summary>How the defaults were chosen (listen address, respawn), one sentence each, naming the container
    /// evidence they follow; Get-ServingPlan and Start-ServingHost write each with Write-Verbose.</summary>
    public string[] Explanations { get; init; } = Array.Empty<string>();
    public PlatformInfo Platform { get; init; } = new();
    /// <summary>The service this plan is for.</summary>
    public ServiceDefinition Definition { get; init; } = ServiceDefinition.Empty;
}
