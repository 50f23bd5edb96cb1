using System.Globalization;
using Grpc.Core;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>
/// How an <see cref="Unavailability"/> is told to a client: HTTP 503 problem with Retry-After, gRPC
/// UNAVAILABLE with <c>grpc-retry-pushback-ms</c>. Not logged per request: the supervisor logged
/// the cause once (a crash, a stop), and a runner that is down could otherwise flood the log.
/// </summary>
internal static class UnavailableResponses
{
    public static Task WriteAsync(HttpContext context, Unavailability why)
    {
        var response = context.Response;
        if (response.HasStarted)
            return Task.CompletedTask;
        response.Headers.RetryAfter = ApiResponses.RetryAfterSeconds(why.RetryAfter);
        var body = ApiResponses.ProblemBody(why.Problem, why.Detail, context.TraceIdentifier, ApiResponses.WorkerOf(context), extensions: null);
        return ApiResponses.WriteBodyAsync(context, why.Problem.Status, ApiResponses.ProblemContentType, body);
    }

    /// <summary>
    /// gRPC UNAVAILABLE (which clients may retry), with the retry hint as <c>grpc-retry-pushback-ms</c>,
    /// the trailer gRPC's retry policy reads, and our error-id / request-id trailers.
    /// </summary>
    public static RpcException ToRpcException(ServerCallContext context, Unavailability why) =>
        new(new Status(StatusCode.Unavailable, why.Detail), new Metadata
        {
            { GrpcProblems.ErrorIdTrailer, why.Problem.Id },
            { GrpcProblems.RequestIdTrailer, context.GetHttpContext().TraceIdentifier },
            { "grpc-retry-pushback-ms", ((long)why.RetryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) },
        });
}
