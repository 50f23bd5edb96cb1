using Grpc.Core;

namespace Serving.Worker.Errors;

/// <summary>
/// The gRPC form of a <see cref="Problem"/>: its status code, a one-line message for the client,
/// and trailing metadata <c>x-serving-error-id</c> / <c>x-serving-request-id</c>; server-side
/// failures are logged like their HTTP twins (<see cref="ProblemLog"/>).
/// </summary>
internal static class GrpcProblems
{
    public const string ErrorIdTrailer = "x-serving-error-id";
    public const string RequestIdTrailer = "x-serving-request-id";

    /// <summary>
    /// The exception to throw from a service method for <paramref name="problem"/>. A 500's message
    /// ends with where the details are (<see cref="ProblemLog.SeeLog"/>).
    /// </summary>
    public static RpcException Create(ServerCallContext context, Problem problem, string detail, Exception? exception = null, string? logMessage = null)
    {
        var http = context.GetHttpContext();
        var requestId = http.TraceIdentifier;
        ProblemLog.Write(http, problem, requestId, logMessage ?? detail, exception);
        var message = OneLine(detail);
        if (problem.Status == StatusCodes.Status500InternalServerError)
            message += ProblemLog.SeeLog(requestId);
        var trailers = new Metadata
        {
            { ErrorIdTrailer, problem.Id },
            { RequestIdTrailer, requestId },
        };
        return new RpcException(new Status(problem.GrpcStatus ?? StatusCode.Unknown, message), trailers);
    }

    /// <summary>First line of a message, at most 512 characters: a status message is a header, never a stack trace.</summary>
    public static string OneLine(string? message)
    {
        if (string.IsNullOrEmpty(message))
            return "";
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        var length = end < 0 ? message.Length : end;
        return length <= 512 ? (end < 0 ? message : message[..length]) : message[..512];
    }
}
