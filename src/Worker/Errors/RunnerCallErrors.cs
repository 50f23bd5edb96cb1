using System.Globalization;
using Grpc.Core;

namespace Serving.Worker.Errors;

/// <summary>How a failed call to a runner reaches the client.</summary>
/// <param name="Problem">The problem type.</param>
/// <param name="Detail">For the client: what failed, never a .NET type or exception name.</param>
/// <param name="LogMessage">For the operator's log line (server errors only): the detail plus what the client is not told.</param>
internal readonly record struct RunnerCallError(Problem Problem, string Detail, string LogMessage);

/// <summary>
/// Maps the status of a failed <c>serving.runner.v1.Runner/Call</c> (or an RpcException a runner
/// method raised in process) to a problem, for the HTTP surface and the gRPC front door alike.
/// </summary>
/// <remarks>
/// A runner worker marks the statuses it raises itself with trailer <c>x-serving-error-id</c>; only
/// then is its INTERNAL message (written by our code: runner, method, what went wrong) shown to the
/// client. Any other status detail (raised by the gRPC client library, or by a runner method's own
/// RpcException) may name .NET types, so it goes to the log only. INVALID_ARGUMENT details are the
/// runner's messages for its clients (<c>RunnerInputException</c>) and pass unchanged.
/// </remarks>
internal static class RunnerCallErrors
{
    public static RunnerCallError Map(RpcException ex, string runner, string method, TimeSpan timeout)
    {
        var detail = ex.Status.Detail ?? "";
        var marked = ex.Trailers.GetValue(GrpcProblems.ErrorIdTrailer) is not null;
        var runnerRequest = ex.Trailers.GetValue(GrpcProblems.RequestIdTrailer);
        var fromRunner = runnerRequest is null ? "" : $" (the runner worker's request id {runnerRequest})";
        switch (ex.StatusCode)
        {
            case StatusCode.InvalidArgument:
                return new(Problems.InvalidInput, detail, detail);
            case StatusCode.DeadlineExceeded:
            {
                var text = string.Create(CultureInfo.InvariantCulture, $"runner '{runner}' did not answer within {timeout.TotalSeconds:0.###} s");
                return new(Problems.RunnerTimeout, text, $"{text} (method '{method}')");
            }
            case StatusCode.Unavailable:
            {
                var text = $"runner '{runner}' is unavailable";
                return new(Problems.RunnerUnavailable, text, $"{text}: {detail}");
            }
            case StatusCode.Cancelled:
            {
                var text = $"runner '{runner}' cancelled the call";
                return new(Problems.RunnerUnavailable, text, $"{text} to method '{method}' (it may be stopping){fromRunner}");
            }
            case StatusCode.ResourceExhausted:
            {
                var text = $"runner '{runner}' method '{method}': a message to or from the runner exceeds the configured size limit";
                return new(Problems.MessageTooLarge, text, $"{text} (maxMessageBytes): {detail}");
            }
            case StatusCode.Unauthenticated:
            {
                var text = $"runner '{runner}' method '{method}' failed";
                return new(Problems.RunnerFailed, text, $"runner '{runner}' rejected the call: {detail} (do the API and runner workers share one runnerSecret?)");
            }
            default:
            {
                if (marked && detail.Length > 0)
                    return new(Problems.RunnerFailed, detail, detail + fromRunner);
                var text = $"runner '{runner}' method '{method}' failed";
                return new(Problems.RunnerFailed, text, $"{text}: status {ex.StatusCode}: {detail}{fromRunner}");
            }
        }
    }
}
