using Google.Protobuf;
using Grpc.Core;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>Dev role: the runner method is invoked in this process, no hop.</summary>
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
            if (JsonInputGate.Applies(InputKind, method))
                JsonInputGate.Check(input.Span);
            var pending = method.Invoke(input.Memory, cts.Token);
            result = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(cts.Token).ConfigureAwait(false);
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
        catch (Exception ex)
        {
            // The same outcome the runner protocol would carry, told the same way.
            throw Failed(context, ItemResults.FromException(ex, RunnerName, method.Name, cts.Token), TimeSpan.Zero, timeout, clientsIsEarlier);
        }
        return UnsafeByteOperations.UnsafeWrap(result);
    }
}
