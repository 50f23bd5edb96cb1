using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>
/// One API as the gRPC front door calls it: the same runner call as <c>POST &lt;route&gt;</c> over
/// HTTP, with failures raised as <see cref="RpcException"/>s carrying the front door's status codes
/// (docs/worker-protocol.md, "API worker gRPC surface"; docs/errors.md) and, for the problems of
/// <see cref="Problems"/>, trailers <c>x-serving-error-id</c> and <c>x-serving-request-id</c>.
/// </summary>
internal abstract class FrontDoorApi(ApiConfig config)
{
    public string Route { get; } = config.Route;
    public string RunnerName { get; } = config.Runner;
    public string MethodName { get; } = config.Method;
    public PayloadKind InputKind { get; } = config.InputKind;
    public PayloadKind OutputKind { get; } = config.OutputKind;

    /// <summary>What this surface's problem details call the input.</summary>
    protected const string InputNoun = "the input";

    /// <summary>Calls the runner with <paramref name="input"/>; returns its encoded result.</summary>
    /// <remarks>
    /// The call ends at the earlier of the client's deadline and requestTimeoutSeconds (then
    /// DEADLINE_EXCEEDED), and is cancelled when the client cancels (context.CancellationToken).
    /// </remarks>
    public abstract Task<ByteString> CallAsync(ByteString input, ServerCallContext context);

    /// <summary>The effective deadline: the earlier of the client's and now + <paramref name="timeout"/>.</summary>
    protected static DateTime Deadline(ServerCallContext context, TimeSpan timeout, out bool clientsIsEarlier)
    {
        var own = DateTime.UtcNow.Add(timeout);
        var clients = context.Deadline;
        clientsIsEarlier = clients < own;
        return clientsIsEarlier ? clients : own;
    }

    /// <summary>The call was cancelled on our side: the client went away, or its deadline passed (not a problem of ours: not logged).</summary>
    protected static RpcException ClientGone(ServerCallContext context) =>
        context.Deadline <= DateTime.UtcNow
            ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the deadline was exceeded"))
            : new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled by the client"));

    /// <summary>The call ran out of time: the client's own deadline, or requestTimeoutSeconds (RunnerTimeout, logged).</summary>
    protected RpcException TimedOut(ServerCallContext context, TimeSpan timeout, bool clientsIsEarlier) =>
        clientsIsEarlier
            ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the deadline was exceeded"))
            : GrpcProblems.Create(context, Problems.RunnerTimeout,
                string.Create(CultureInfo.InvariantCulture, $"runner '{RunnerName}' did not answer within {timeout.TotalSeconds:0.###} s"),
                logMessage: string.Create(CultureInfo.InvariantCulture, $"runner '{RunnerName}' method '{MethodName}' did not answer within {timeout.TotalSeconds:0.###} s"));

    /// <summary>A failed runner call: its per-item status told as the front door's status.</summary>
    protected RpcException Failed(ServerCallContext context, in ItemResult result, TimeSpan retryAfter, TimeSpan timeout, bool clientsIsEarlier)
    {
        if (result.Status == ItemStatus.TimedOut)
            return TimedOut(context, timeout, clientsIsEarlier);
        if (result.Status == ItemStatus.Cancelled && context.CancellationToken.IsCancellationRequested)
            return ClientGone(context);
        var error = RunnerCallErrors.Map(result.Status, result.Message, retryAfter, RunnerName, MethodName, timeout, InputNoun);
        if (error.Quiet is { } quiet)
            return UnavailableResponses.ToRpcException(context, quiet);
        return GrpcProblems.Create(context, error.Problem, error.Detail, exception: result.Exception, logMessage: error.LogMessage);
    }
}
