using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Serving.Abstractions;
using Serving.Worker.Api;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;
using RunnerCallRequest = Serving.Worker.Protocol.CallRequest;

namespace Serving.Worker.FrontDoor;

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

    /// <summary>A failed runner call (an RpcException from the runner hop, or one a runner method raised in process).</summary>
    protected RpcException Failed(RpcException ex, ServerCallContext context, TimeSpan timeout, bool clientsIsEarlier)
    {
        if (ex.StatusCode == StatusCode.DeadlineExceeded)
            return TimedOut(context, timeout, clientsIsEarlier);
        if (ex.StatusCode == StatusCode.Cancelled && context.CancellationToken.IsCancellationRequested)
            return ClientGone(context);
        var error = RunnerCallErrors.Map(ex, RunnerName, MethodName, timeout);
        return GrpcProblems.Create(context, error.Problem, error.Detail, logMessage: error.LogMessage);
    }
}

/// <summary>API role: a unary gRPC call to the runner's endpoint, the request's bytes passed on without a copy.</summary>
internal sealed class RemoteFrontDoorApi(ApiConfig config, RunnerChannels runner) : FrontDoorApi(config)
{
    public override async Task<ByteString> CallAsync(ByteString input, ServerCallContext context)
    {
        if (runner.Unavailable is { } down)
            throw UnavailableResponses.ToRpcException(context, down);
        var request = new RunnerCallRequest { Method = MethodName };
        request.Payloads.Add(input);
        var deadline = Deadline(context, runner.Timeout, out var clientsIsEarlier);
        Protocol.CallReply reply;
        try
        {
            reply = await runner.CallAsync(request, new CallOptions(runner.Headers, deadline, context.CancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException) when (runner.Unavailable is { } why && !context.CancellationToken.IsCancellationRequested)
        {
            // Cancelled because the runner went down or the drain's time is up: say so, with a retry hint.
            throw UnavailableResponses.ToRpcException(context, why);
        }
        catch (RpcException ex)
        {
            throw Failed(ex, context, runner.Timeout, clientsIsEarlier);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw ClientGone(context);
        }
        catch (Exception ex)
        {
            throw GrpcProblems.Create(context, Problems.InternalError, $"the call to runner '{RunnerName}' method '{MethodName}' failed", exception: ex);
        }
        var payloads = reply.Payloads;
        return payloads.Count > 0 ? payloads[0] : ByteString.Empty;
    }
}

/// <summary>Dev role: the runner method is invoked in this process, no gRPC hop.</summary>
internal sealed class InProcessFrontDoorApi(ApiConfig config, BoundMethod method, TimeSpan timeout, CancellationToken drainExpired) : FrontDoorApi(config)
{
    public override async Task<ByteString> CallAsync(ByteString input, ServerCallContext context)
    {
        var deadline = Deadline(context, timeout, out var clientsIsEarlier);
        var remaining = deadline - DateTime.UtcNow;
        var aborted = context.CancellationToken;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted, drainExpired);
        cts.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        ReadOnlyMemory<byte> result;
        try
        {
            // The parsed request owns the bytes and is not used again: the method may keep them.
            var pending = method.Invoke(input.Memory, cts.Token);
            result = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (RunnerInputException ex)
        {
            throw GrpcProblems.Create(context, Problems.InvalidInput, ex.Message);
        }
        catch (RpcException ex)
        {
            // A runner method's own status: as if it had come over the runner hop.
            throw Failed(ex, context, timeout, clientsIsEarlier);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            throw ClientGone(context);
        }
        catch (OperationCanceledException) when (drainExpired.IsCancellationRequested)
        {
            throw UnavailableResponses.ToRpcException(context, Unavailability.HostStopping);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw TimedOut(context, timeout, clientsIsEarlier);
        }
        catch (RunnerResultException ex)
        {
            throw GrpcProblems.Create(context, Problems.RunnerFailed, $"runner '{RunnerName}' method '{method.Name}' {ex.Message}", exception: ex.InnerException);
        }
        catch (Exception ex)
        {
            throw GrpcProblems.Create(context, Problems.RunnerFailed, $"runner '{RunnerName}' method '{method.Name}' failed", exception: ex);
        }
        return UnsafeByteOperations.UnsafeWrap(result);
    }
}
