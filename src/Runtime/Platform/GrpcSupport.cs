namespace Serving.Runtime.Platform;

/// <summary>Whether gRPC may be served in production mode here.</summary>
public enum GrpcSupport { Allowed, Warning, Denied }
