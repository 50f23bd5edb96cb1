using System.Text.Json;

namespace Serving.Runtime.Calling;

/// <summary>
/// What went wrong with one API call, as the host said it: an HTTP problem body (RFC 9457, application/problem+json,
/// docs/errors.md) or a gRPC status with the x-serving-error-id / x-serving-request-id trailers. It is the target of
/// the error Invoke-ServingApi writes, so a script reads $_.TargetObject.RequestId.
/// </summary>
public sealed class ApiProblem
{
    public const string ErrorIdTrailer = "x-serving-error-id";
    public const string RequestIdTrailer = "x-serving-request-id";

    /// <summary>The host's errorId (InvalidJson, NotFound, RunnerFailed, ...), or ApiCallFailed when it gave none.</summary>
    public string ErrorId { get; init; } = ErrorIds.ApiCallFailed;

    /// <summary>The route called.</summary>
    public string Route { get; init; } = "";

    /// <summary>The HTTP status (0 for a gRPC call).</summary>
    public int Status { get; init; }

    /// <summary>The gRPC status code name (INVALID_ARGUMENT, ...); empty for an HTTP call.</summary>
    public string GrpcStatus { get; init; } = "";

    public string Title { get; init; } = "";

    public string Detail { get; init; } = "";

    /// <summary>The request id the host's log line carries; empty when the host gave none.</summary>
    public string RequestId { get; init; } = "";

    /// <summary>The API worker that answered (x-serving-worker or the problem's worker); empty when unknown.</summary>
    public string Worker { get; init; } = "";

    /// <summary>
    /// The problem of an HTTP answer that was not a success. A problem+json body gives its fields; any other body
    /// (a proxy's page, an empty body) still gives an error naming the status and the body's first line.
    /// </summary>
    public static ApiProblem FromHttp(string route, int status, string? reason, string? mediaType, byte[] body, string? requestIdHeader)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        if (ApiPayload.KindOf(mediaType) == PayloadKind.Json && TryParse(text, out var root))
        {
            return new ApiProblem
            {
                Route = route,
                Status = status,
                ErrorId = StringOf(root, "errorId") is { Length: > 0 } id ? id : ErrorIds.ApiCallFailed,
                Title = StringOf(root, "title") ?? reason ?? "",
                Detail = StringOf(root, "detail") ?? "",
                RequestId = StringOf(root, "requestId") ?? requestIdHeader ?? "",
                Worker = StringOf(root, "worker") ?? "",
            };
        }
        return new ApiProblem
        {
            Route = route,
            Status = status,
            Title = reason ?? "",
            Detail = FirstLine(text),
            RequestId = requestIdHeader ?? "",
        };
    }

    /// <summary>
    /// The problem of a gRPC status other than OK. <paramref name="message"/> is grpc-message as sent
    /// (percent-encoded, per the gRPC HTTP/2 protocol).
    /// </summary>
    public static ApiProblem FromGrpc(string route, int status, string? message, string? errorId, string? requestId, string? worker) => new()
    {
        Route = route,
        GrpcStatus = GrpcStatusName(status),
        ErrorId = string.IsNullOrEmpty(errorId) ? ErrorIds.ApiCallFailed : errorId,
        Title = GrpcStatusName(status),
        Detail = string.IsNullOrEmpty(message) ? "" : Uri.UnescapeDataString(message),
        RequestId = requestId ?? "",
        Worker = worker ?? "",
    };

    /// <summary>One sentence: the route, what the host said, its id, and the request id to look for in the host's log.</summary>
    public string Message
    {
        get
        {
            var status = Status > 0 ? $"HTTP {Status}" : GrpcStatus;
            var what = Detail.Length > 0 ? Detail : Title.Length > 0 ? Title : "the call failed";
            var request = RequestId.Length > 0 ? $", request id {RequestId}" : "";
            return $"{Route}: {what} ({ErrorId}, {status}{request})";
        }
    }

    /// <summary>The error's kind, from the status: what a caller can do about it.</summary>
    public ServingErrorKind Kind => (Status, GrpcStatus) switch
    {
        (404, _) or (_, "NOT_FOUND") => ServingErrorKind.ObjectNotFound,
        (408 or 504, _) or (_, "DEADLINE_EXCEEDED") => ServingErrorKind.OperationTimeout,
        (503, _) or (_, "UNAVAILABLE" or "RESOURCE_EXHAUSTED") => ServingErrorKind.ResourceUnavailable,
        (>= 400 and < 500, _) or (_, "INVALID_ARGUMENT") => ServingErrorKind.InvalidArgument,
        _ => ServingErrorKind.InvalidOperation,
    };

    /// <summary>The exception the runtime throws for this problem; the cmdlet makes it the error record.</summary>
    public ServingException ToException() => new(ErrorId, Kind, Message, this);

    public override string ToString() => Message;

    /// <summary>The name of a gRPC status code, as the gRPC specification spells it.</summary>
    public static string GrpcStatusName(int code) => code switch
    {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => $"STATUS_{code}",
    };

    private static bool TryParse(string text, out JsonElement root)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            root = document.RootElement.Clone();
            return root.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            root = default;
            return false;
        }
    }

    private static string? StringOf(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string FirstLine(string text)
    {
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        if (end >= 0) line = line[..end];
        return line.Length <= 200 ? line.ToString() : line[..200].ToString() + "…";
    }
}
