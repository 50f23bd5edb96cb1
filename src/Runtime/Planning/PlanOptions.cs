namespace Serving.Runtime.Planning;

/// <summary>What the user asked for; every default is written here and documented.</summary>
public sealed record PlanOptions
{
    /// <summary>The API protocol. Default Http.</summary>
    public ServingProtocol Protocol { get; init; } = ServingProtocol.Http;

    /// <summary>Development mode: API and runners in one process. Default false (production).</summary>
    public bool Development { get; init; }

    /// <summary>Runner transport; Auto follows the platform rule. Default Auto.</summary>
    public TransportChoice Transport { get; init; } = TransportChoice.Auto;

    /// <summary>Respawn policy; Auto = respawn unless inside a container. Default Auto.</summary>
    public RespawnChoice Respawn { get; init; } = RespawnChoice.Auto;

    /// <summary>API worker count; null = the (cgroup-aware) processor count, 1 in development mode.</summary>
    public int? ApiWorkers { get; init; }

    /// <summary>The API port; null = <see cref="DefaultPort"/>. 0 = any free port (HTTP only).</summary>
    public int? Port { get; init; }

    /// <summary>
    /// A second port (HTTP/1.1) that answers only /metrics and the probes, on the same address; null = none:
    /// /metrics is on the API port only (which a gRPC host serves as HTTP/2, which Prometheus does not scrape).
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>The address to listen on; null = 127.0.0.1, or 0.0.0.0 inside a container (where loopback
    /// would be unreachable through a published port; the plan then carries a warning).</summary>
    public string? HostAddress { get; init; }

    /// <summary>The base directory for the host's private socket directory; null = the temp directory.</summary>
    public string? SocketDirectory { get; init; }

    /// <summary>The host id used in names; null = a fresh random id.</summary>
    public string? HostId { get; init; }

    public const int DefaultPort = 3000;
}
