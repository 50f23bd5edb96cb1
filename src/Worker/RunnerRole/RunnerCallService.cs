using Google.Protobuf;
using Grpc.Core;
using Serving.Abstractions;
using Serving.Worker.Protocol;
using Serving.Worker.Runners;

namespace Serving.Worker.RunnerRole;

/// <summary>
/// <c>serving.runner.v1.Runner/Call</c>: decodes nothing itself; hands each payload to the bound
/// invoker and wraps the results without copying. Errors map to status codes per the protocol and
/// never carry a stack trace (the full exception goes to the log).
/// </summary>
internal sealed class RunnerCallService(LoadedRunner runner, ILogger<RunnerCallService> log) : Protocol.Runner.RunnerBase
{
    public override Task<CallReply> Call(CallRequest request, ServerCallContext context)
    {
        if (!runner.Methods.TryGetValue(request.Method, out var method))
            return Task.FromException<CallReply>(new RpcException(new Status(StatusCode.Unimplemented, $"runner '{runner.Name}' has no method '{request.Method}'")));

        var payloads = request.Payloads;
        if (payloads.Count != 1)
            return CallBatchAsync(method, payloads, context);

        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            pending = method.Invoke(payloads[0].Memory, context.CancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<CallReply>(ToRpcException(ex, method, context));
        }

        if (pending.IsCompletedSuccessfully)
        {
            var reply = new CallReply();
            reply.Payloads.Add(UnsafeByteOperations.UnsafeWrap(pending.Result));
            return Task.FromResult(reply);
        }
        return AwaitOneAsync(pending, method, context);
    }

    private async Task<CallReply> AwaitOneAsync(ValueTask<ReadOnlyMemory<byte>> pending, BoundMethod method, ServerCallContext context)
    {
        ReadOnlyMemory<byte> result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw ToRpcException(ex, method, context);
        }
        var reply = new CallReply();
        reply.Payloads.Add(UnsafeByteOperations.UnsafeWrap(result));
        return reply;
    }

    private async Task<CallReply> CallBatchAsync(BoundMethod method, IList<ByteString> payloads, ServerCallContext context)
    {
        var reply = new CallReply();
        foreach (var payload in payloads)
        {
            ReadOnlyMemory<byte> result;
            try
            {
                result = await method.Invoke(payload.Memory, context.CancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                throw ToRpcException(ex, method, context);
            }
            reply.Payloads.Add(UnsafeByteOperations.UnsafeWrap(result));
        }
        return reply;
    }

    private RpcException ToRpcException(Exception ex, BoundMethod method, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException rpc:
                return rpc;
            case RunnerInputException input:
                return new RpcException(new Status(StatusCode.InvalidArgument, input.Message));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            default:
                log.LogError(ex, "runner '{Runner}' method '{Method}' failed", runner.Name, method.Name);
                return new RpcException(new Status(StatusCode.Internal, $"runner '{runner.Name}' method '{method.Name}' failed ({ex.GetType().Name}); see the runner's log"));
        }
    }
}
