using Grpc.Core;

namespace Serving.Worker.Errors;

/// <summary>
/// Every client-facing problem type of the worker, in one place (docs/errors.md lists them; a test
/// pins this table by its literal text). Ids are API: never rename one, add a new one instead.
/// </summary>
internal static class Problems
{
    /// <summary>HTTP: no API at this path (and not a probe). gRPC: no API of that name.</summary>
    public static readonly Problem NotFound = new("NotFound", 404, StatusCode.NotFound, "Not found");

    /// <summary>HTTP only: an API route called with another method than POST, a probe with another than GET/HEAD.</summary>
    public static readonly Problem MethodNotAllowed = new("MethodNotAllowed", 405, null, "Method not allowed");

    /// <summary>HTTP: the body is larger than the API accepts. gRPC: a message over the limit.</summary>
    public static readonly Problem PayloadTooLarge = new("PayloadTooLarge", 413, StatusCode.ResourceExhausted, "Payload too large");

    /// <summary>HTTP only: the request body could not be read (malformed chunked encoding and the like).</summary>
    public static readonly Problem BadRequest = new("BadRequest", 400, null, "Bad request");

    /// <summary>HTTP only: the request body arrived too slowly (Kestrel's minimum data rate).</summary>
    public static readonly Problem RequestTimeout = new("RequestTimeout", 408, null, "Request timeout");

    /// <summary>The input of a JSON API is not one valid JSON value in UTF-8 (empty, syntax, trailing data, nesting too deep).</summary>
    public static readonly Problem InvalidJson = new("InvalidJson", 400, StatusCode.InvalidArgument, "Invalid JSON");

    /// <summary>
    /// The input does not fit what the runner method takes: a JSON value of the wrong shape, a number
    /// out of range, or the runner's own <c>RunnerInputException</c> (its message is the detail).
    /// </summary>
    public static readonly Problem InvalidInput = new("InvalidInput", 400, StatusCode.InvalidArgument, "Invalid input");

    /// <summary>The runner cannot be reached (no worker listening, connection lost) or it cancelled the call.</summary>
    public static readonly Problem RunnerUnavailable = new("RunnerUnavailable", 503, StatusCode.Unavailable, "Runner unavailable");

    /// <summary>The runner's batch queue is full: the request was shed at once rather than queued without bound; retry after Retry-After.</summary>
    public static readonly Problem Overloaded = new("Overloaded", 503, StatusCode.Unavailable, "Overloaded");

    /// <summary>The runner did not answer within requestTimeoutSeconds.</summary>
    public static readonly Problem RunnerTimeout = new("RunnerTimeout", 504, StatusCode.DeadlineExceeded, "Runner timeout");

    /// <summary>The runner method threw, or returned a result that cannot be encoded; details only in the log.</summary>
    public static readonly Problem RunnerFailed = new("RunnerFailed", 500, StatusCode.Internal, "Runner failed");

    /// <summary>A message between the API worker and the runner exceeds the configured limit (maxMessageBytes).</summary>
    public static readonly Problem MessageTooLarge = new("MessageTooLarge", 500, StatusCode.ResourceExhausted, "Message too large");

    /// <summary>The API worker itself failed unexpectedly; details only in the log.</summary>
    public static readonly Problem InternalError = new("InternalError", 500, StatusCode.Internal, "Internal error");

    /// <summary><c>/readyz</c>: a runner has no ready worker.</summary>
    public static readonly Problem NotReady = new("NotReady", 503, StatusCode.Unavailable, "Not ready");

    /// <summary>The worker (or host) is stopping and takes no new work.</summary>
    public static readonly Problem Stopping = new("Stopping", 503, StatusCode.Unavailable, "Stopping");

    /// <summary><c>/livez</c>: the supervisor said the host is ending (a worker gone for good with respawn off).</summary>
    public static readonly Problem HostFailing = new("HostFailing", 503, StatusCode.Unavailable, "Host failing");

    /// <summary>Every problem type, in the order docs/errors.md lists them.</summary>
    public static IReadOnlyList<Problem> All { get; } =
    [
        NotFound, MethodNotAllowed, PayloadTooLarge, BadRequest, RequestTimeout, InvalidJson, InvalidInput,
        RunnerUnavailable, Overloaded, RunnerTimeout, RunnerFailed, MessageTooLarge, InternalError, NotReady, Stopping, HostFailing,
    ];
}
