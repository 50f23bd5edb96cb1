namespace Serving;

/// <summary>The operating system family, as the rules of the seed distinguish them.</summary>
public enum OSKind { Unknown, Linux, Windows, MacOS, FreeBSD }

/// <summary>How API workers reach runner workers.</summary>
public enum RunnerTransport
{
    /// <summary>No runner transport: the platform is unsupported.</summary>
    None,
    /// <summary>Unix domain sockets in a private directory (POSIX except WSL).</summary>
    Uds,
    /// <summary>TCP on 127.0.0.1 with a per-host secret (Windows, WSL).</summary>
    Tcp,
    /// <summary>Runners live in the API process (development mode).</summary>
    InProcess,
}

/// <summary>Whether gRPC may be served in production mode here.</summary>
public enum GrpcSupport { Allowed, Warning, Denied }

/// <summary>The -Transport choice.</summary>
public enum TransportChoice { Auto, Uds, Tcp }

/// <summary>The -Respawn choice.</summary>
public enum RespawnChoice { Auto, Always, Never }

/// <summary>Production (many processes) or development (one process).</summary>
public enum ServingMode { Production, Development }
