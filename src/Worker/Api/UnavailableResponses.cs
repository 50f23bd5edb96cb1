using System.Globalization;
using Grpc.Core;
using Serving.Worker.Hosting;

namespace Serving.Worker.Api;

/// <summary>How an <see cref="Unavailability"/> is told to a client: HTTP 503 with Retry-After, gRPC UNAVAILABLE.</summary>
internal static class UnavailableResponses
{
    /// <summary>HTTP 503 with <c>Retry-After</c> (whole seconds, at least 1).</summary>
    public static Task WriteAsync(HttpContext context, Unavailability why)
    {
        if (context.Response.HasStarted)
            return Task.CompletedTask;
        context.Response.Headers.RetryAfter = RetryAfterSeconds(why).ToString(CultureInfo.InvariantCulture);
        return ApiResponses.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, why.Detail);
    }

    /// <summary>
    /// gRPC UNAVAILABLE (which clients may retry), with the retry hint as <c>grpc-retry-pushback-ms</c>,
    /// the trailer gRPC's retry policy reads.
    /// </summary>
    public static RpcException ToRpcException(Unavailability why) =>
        new(new Status(StatusCode.Unavailable, why.Detail), new Metadata
        {
            { "grpc-retry-pushback-ms", ((long)why.RetryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) },
        });

    public static long RetryAfterSeconds(Unavailability why) => Math.Max(1, (long)Math.Ceiling(why.RetryAfter.TotalSeconds));
}
