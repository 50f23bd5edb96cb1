using System.Globalization;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;

namespace Serving.Worker.Errors;

/// <summary>How a failed call to a runner reaches the client.</summary>
/// <param name="Problem">The problem type.</param>
/// <param name="Detail">For the client: what failed, never a .NET type or exception name.</param>
/// <param name="LogMessage">For the operator's log line (server errors only): the detail plus what the client is not told.</param>
/// <param name="Quiet">
/// Set for answers that are a state, not a failure (shed by a full queue, a runner stopping or
/// unreachable): told with a retry hint and not logged per request — under overload a line per
/// request would bury the log.
/// </param>
internal readonly record struct RunnerCallError(Problem Problem, string Detail, string LogMessage, Unavailability? Quiet = null);

/// <summary>
/// Maps a runner call's per-item status (the runner protocol's <see cref="ItemStatus"/>, or the
/// outcome of an in-process call in development mode) to a problem, for the HTTP surface and the
/// gRPC front door alike.
/// </summary>
/// <remarks>
/// Messages come from our own code on the runner side (runner, method, what went wrong) or are the
/// runner's messages for its clients (<c>RunnerInputException</c>): they pass unchanged. Exceptions
/// stay in the runner worker's log, under the API request's id, which the call carries.
/// </remarks>
internal static class RunnerCallErrors
{
    private static readonly TimeSpan DefaultRetry = TimeSpan.FromSeconds(1);

    /// <param name="inputNoun">What the front door calls the input ("the request body", "the input"): an InvalidJson message is a predicate about it.</param>
    public static RunnerCallError Map(ItemStatus status, string? message, TimeSpan retryAfter, string runner, string method, TimeSpan timeout, string inputNoun)
    {
        var detail = message ?? "";
        var retry = retryAfter > TimeSpan.Zero ? retryAfter : DefaultRetry;
        switch (status)
        {
            case ItemStatus.InvalidInput:
                return new(Problems.InvalidInput, detail, detail);
            case ItemStatus.InvalidJson:
            {
                var text = $"{inputNoun} {(detail.Length > 0 ? detail : "is not valid JSON")}";
                return new(Problems.InvalidJson, text, text);
            }
            case ItemStatus.TimedOut:
            {
                var text = string.Create(CultureInfo.InvariantCulture, $"runner '{runner}' did not answer within {timeout.TotalSeconds:0.###} s");
                return new(Problems.RunnerTimeout, text, $"{text} (method '{method}')");
            }
            case ItemStatus.Overloaded:
            {
                var text = detail.Length > 0 ? detail : $"runner '{runner}' is overloaded; retry later";
                return new(Problems.Overloaded, text, text, new Unavailability(Problems.Overloaded, text, retry));
            }
            case ItemStatus.Stopping:
            {
                var text = $"runner '{runner}' is stopping; retry";
                return new(Problems.RunnerUnavailable, text, $"{text}: {detail}", new Unavailability(Problems.RunnerUnavailable, text, retry));
            }
            case ItemStatus.Unreachable:
            {
                var text = $"runner '{runner}' is unavailable";
                return new(Problems.RunnerUnavailable, text, $"{text}: {detail}");
            }
            case ItemStatus.Cancelled:
            {
                var text = $"runner '{runner}' cancelled the call";
                return new(Problems.RunnerUnavailable, text, $"{text} to method '{method}' (it may be stopping)");
            }
            case ItemStatus.TooLarge:
            {
                var text = $"runner '{runner}' method '{method}': a message to or from the runner exceeds the configured size limit";
                return new(Problems.MessageTooLarge, text, $"{text} (maxMessageBytes): {detail}");
            }
            case ItemStatus.UnknownMethod:
                return new(Problems.RunnerFailed, $"runner '{runner}' method '{method}' failed", detail);
            default:
            {
                var text = detail.Length > 0 ? detail : $"runner '{runner}' method '{method}' failed";
                return new(Problems.RunnerFailed, text, text + " (the runner worker's log has the exception under this request id)");
            }
        }
    }
}
