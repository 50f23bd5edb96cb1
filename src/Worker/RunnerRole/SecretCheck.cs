using System.Runtime.CompilerServices;
using Microsoft.Extensions.Primitives;

namespace Serving.Worker.RunnerRole;

/// <summary>
/// On a Tcp runner endpoint every call must carry <c>x-serving-secret</c> equal to host.json's
/// runnerSecret (constant-time compare), else it is answered UNAUTHENTICATED without reaching gRPC.
/// </summary>
internal static class SecretCheck
{
    public const string HeaderName = "x-serving-secret";

    public static Func<RequestDelegate, RequestDelegate> Middleware(string secret)
    {
        var expected = secret;
        return next => context =>
        {
            if (Matches(context.Request.Headers[HeaderName], expected))
                return next(context);

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            // A trailers-only gRPC response: the status travels in the headers.
            response.Headers["grpc-status"] = "16";
            response.Headers["grpc-message"] = "missing or wrong x-serving-secret";
            return Task.CompletedTask;
        };
    }

    /// <summary>Comparison of the header with the expected secret in time independent of where they differ.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    public static bool Matches(StringValues header, string expected)
    {
        if (header.Count != 1 || header[0] is not { } value)
            return false;
        var diff = value.Length ^ expected.Length;
        for (var i = 0; i < expected.Length; i++)
        {
            var c = i < value.Length ? value[i] : 0;
            diff |= c ^ expected[i];
        }
        return diff == 0;
    }
}
