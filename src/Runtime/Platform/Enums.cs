namespace Serving;

/// <summary>The operating system family, as the rules of the seed distinguish them.</summary>
public enum OSKind { Unknown, Linux, Windows, MacOS, FreeBSD }

/// <summary>Whether gRPC may be served in production mode here.</summary>
public enum GrpcSupport { Allowed, Warning, Denied }

/// <summary>The -Transport choice.</summary>
public enum TransportChoice { Auto, Uds, Tcp }

/// <summary>The -Respawn choice.</summary>
public enum RespawnChoice { Auto, Always, Never }

/// <summary>Production (many processes) or development (one process).</summary>
public enum ServingMode { Production, Development }
