namespace Serving.Shared;

/// <summary>
/// The defaults of the settings a user gives Start-ServingHost and the supervisor writes into host.json,
/// written once: the cmdlet's parameters, the supervisor's <c>HostOptions</c> and the worker's
/// <c>HostConfig</c> (for a host.json that leaves one out) all take them from here.
/// One file, linked into the supervisor (Serving.Runtime) and the worker (Serving.Worker).
/// </summary>
internal static class ServingDefaults
{
    /// <summary>The deadline of one request's runner call, in seconds (-RequestTimeout; host.json requestTimeoutSeconds).</summary>
    public const int RequestTimeoutSeconds = 60;

    /// <summary>The largest request body an API accepts: 32 MiB (host.json maxRequestBodyBytes).</summary>
    public const long MaxRequestBodyBytes = 32L * 1024 * 1024;

    /// <summary>Concurrent HTTP/2 streams per client connection of the gRPC front door (-MaxConcurrentStreams; host.json maxConcurrentStreams).</summary>
    public const int MaxConcurrentStreams = 100;

    /// <summary>
    /// The most elements one <c>{"instances":[…]}</c> request may carry: a bound on the work one request can
    /// queue, far above any batch size (4096 at most).
    /// </summary>
    public const int MaxInstancesPerRequest = 10_000;

    /// <summary>
    /// How deep the body of a JSON API may nest when its method takes raw bytes or text (the runner checks it,
    /// nothing parses it). A method with a JSON type reads as deep as its runner's JsonOptions say (64 by default).
    /// </summary>
    public const int RawJsonMaxDepth = 256;
}
