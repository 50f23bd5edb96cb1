using Google.Protobuf;
using Grpc.Core;
using Serving.Abstractions;
using Serving.Worker.Api;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;
using RunnerCallRequest = Serving.Worker.Protocol.CallRequest;

namespace Serving.Worker.FrontDoor;

/// <summary>
/// One API as the gRPC front door calls it: the same runner call as <c>POST &lt;route&gt;</c> over
/// HTTP, with failures raised as <see cref="RpcException"/>s carrying the front door's status codes
/// (docs/worker-protocol.md, "API worker gRPC surface").
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

    /// <summary>The call was cancelled on our side: the client went away, or its deadline passed.</summary>
    protected static RpcException ClientGone(ServerCallContext context) =>
        context.Deadline <= DateTime.UtcNow
            ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the deadline was exceeded"))
            : new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled by the client"));

    protected RpcException TimedOut(TimeSpan timeout, bool clientsIsEarlier) =>
        new(new Status(StatusCode.DeadlineExceeded, clientsIsEarlier
            ? "the deadline was exceeded"
            : $"runner '{RunnerName}' did not answer within {timeout.TotalSeconds:0.###} s"));

    /// <summary>First line of a message, at most 512 characters: a status detail never carries a stack trace.</summary>
    protected static string Short(string? message)
    {
        if (string.IsNullOrEmpty(message))
            return "";
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        var length = end < 0 ? message.Length : end;
        return length <= 512 ? (end < 0 ? message : message[..length]) : message[..512];
    }
}

/// <summary>API role: a unary gRPC call to the runner's endpoint, the request's bytes passed on without a copy.</summary>
internal sealed class RemoteFrontDoorApi(ApiConfig config, RunnerChannels runner, ILogger log) : FrontDoorApi(config)
{
    public override async Task<ByteString> CallAsync(ByteString input, ServerCallContext context)
    {
        if (runner.Unavailable is { } down)
            throw UnavailableResponses.ToRpcException(down);
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
            throw UnavailableResponses.ToRpcException(why);
        }
        catch (RpcException ex)
        {
            throw Map(ex, context, clientsIsEarlier);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw ClientGone(context);
        }
        catch (Exception ex)
        {
            log.LogError(ex, "call to runner '{Runner}' failed", RunnerName);
            throw new RpcException(new Status(StatusCode.Internal, $"call to runner '{RunnerName}' failed ({ex.GetType().Name}); see the API worker's log"));
        }
        var payloads = reply.Payloads;
        return payloads.Count > 0 ? payloads[0] : ByteString.Empty;
    }

    private RpcException Map(RpcException ex, ServerCallContext context, bool clientsIsEarlier) => ex.StatusCode switch
    {
        StatusCode.InvalidArgument => new RpcException(new Status(StatusCode.InvalidArgument, Short(ex.Status.Detail))),
        StatusCode.DeadlineExceeded => TimedOut(runner.Timeout, clientsIsEarlier),
        StatusCode.Cancelled when context.CancellationToken.IsCancellationRequested => ClientGone(context),
        StatusCode.Cancelled => new RpcException(new Status(StatusCode.Unavailable, $"runner '{RunnerName}' cancelled the call")),
        StatusCode.Unavailable => new RpcException(new Status(StatusCode.Unavailable, $"runner '{RunnerName}' is unavailable")),
        StatusCode.ResourceExhausted => new RpcException(new Status(StatusCode.ResourceExhausted,
            $"runner '{RunnerName}' method '{MethodName}': the message exceeds the configured size limit")),
        StatusCode.Unauthenticated => new RpcException(new Status(StatusCode.Internal, $"runner '{RunnerName}' rejected the call: {Short(ex.Status.Detail)}")),
        _ => new RpcException(new Status(StatusCode.Internal, string.IsNullOrEmpty(ex.Status.Detail)
            ? $"runner '{RunnerName}' failed ({ex.StatusCode})"
            : Short(ex.Status.Detail))),
    };
}

/// <summary>Dev role: the runner method is invoked in this process, no gRPC hop.</summary>
internal sealed class InProcessFrontDoorApi(ApiConfig config, BoundMethod method, TimeSpan timeout, CancellationToken drainExpired, ILogger log) : FrontDoorApi(config)
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
            throw new RpcException(new Status(StatusCode.InvalidArgument, Short(ex.Message)));
        }
        catch (RpcException ex)
        {
            // A runner may raise its own status; its detail is still kept to one short line.
            throw new RpcException(new Status(ex.StatusCode, Short(ex.Status.Detail)));
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            throw ClientGone(context);
        }
        catch (OperationCanceledException) when (drainExpired.IsCancellationRequested)
        {
            throw UnavailableResponses.ToRpcException(Unavailability.HostStopping);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw TimedOut(timeout, clientsIsEarlier);
        }
        catch (Exception ex)
        {
            log.LogError(ex, "runner '{Runner}' method '{Method}' failed", RunnerName, method.Name);
            throw new RpcException(new Status(StatusCode.Internal,
                $"runner '{RunnerName}' method '{method.Name}' failed ({ex.GetType().Name}); see the worker's log"));
        }
        return UnsafeByteOperations.UnsafeWrap(result);
    }
}
