using Google.Protobuf;
using Grpc.Core;
using Serving.Abstractions;
using Serving.Worker.Errors;
using Serving.Worker.Protocol;
using Serving.Worker.Runners;

namespace Serving.Worker.RunnerRole;

/// <summary>
/// <c>serving.runner.v1.Runner/Call</c>: decodes nothing itself; hands each payload to the bound
/// invoker and wraps the results without copying. Errors map to status codes per the protocol and
/// never carry a stack trace or a .NET type name (the full exception goes to the log).
/// </summary>
internal sealed class RunnerCallService(LoadedRunner runner, ILogger<RunnerCallService> log) : Protocol.Runner.RunnerBase
{
    public override Task<CallReply> Call(CallRequest request, ServerCallContext context)
    {
        if (!runner.Methods.TryGetValue(request.Method, out var method))
            return Task.FromException<CallReply>(Marked(StatusCode.Unimplemented, $"runner '{runner.Name}' has no method '{request.Method}'", Problems.RunnerFailed, RequestId(context)));

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
                return Marked(StatusCode.InvalidArgument, input.Message, Problems.InvalidInput, RequestId(context));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            case RunnerResultException result:
                return Failed($"runner '{runner.Name}' method '{method.Name}' {result.Message}", result.InnerException, context);
            default:
                return Failed($"runner '{runner.Name}' method '{method.Name}' failed", ex, context);
        }
    }

    /// <summary>
    /// INTERNAL with a message naming the runner and method only; the exception goes to this worker's
    /// log on one line with the error id and this call's request id, which travel back in the trailers
    /// (the API worker's own log line repeats them, so an operator gets from a client's report to here).
    /// </summary>
    private RpcException Failed(string detail, Exception? exception, ServerCallContext context)
    {
        var requestId = RequestId(context);
        ProblemLog.Write(log, Problems.RunnerFailed, requestId, detail, exception);
        return Marked(StatusCode.Internal, detail, Problems.RunnerFailed, requestId);
    }

    /// <summary>A status this worker raised itself: trailers x-serving-error-id and x-serving-request-id.</summary>
    private static RpcException Marked(StatusCode code, string detail, Problem problem, string requestId) =>
        new(new Status(code, detail), new Metadata
        {
            { GrpcProblems.ErrorIdTrailer, problem.Id },
            { GrpcProblems.RequestIdTrailer, requestId },
        });

    private static string RequestId(ServerCallContext context) => context.GetHttpContext().TraceIdentifier;
}
