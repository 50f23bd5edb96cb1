using System.Buffers;
using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>Dev role: the runner method is invoked in this process, no hop.</summary>
internal sealed class InProcessApiRoute(ApiConfig config, BoundMethod method, long maxRequestBodyBytes, TimeSpan timeout, CancellationToken drainExpired)
    : ApiRoute(config, maxRequestBodyBytes)
{
    public override async Task InvokeAsync(HttpContext context, byte[] rented, int length)
    {
        // The invoker may hand a whole array to the method: give it one it may keep.
        var input = rented.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(rented);

        var aborted = context.RequestAborted;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted, drainExpired);
        cts.CancelAfter(timeout);
        ReadOnlyMemory<byte> result;
        try
        {
            if (JsonInputGate.Applies(InputKind, method))
                JsonInputGate.Check(input);
            var pending = method.Invoke(input, cts.Token);
            result = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (OperationCanceledException) when (drainExpired.IsCancellationRequested)
        {
            await UnavailableResponses.WriteAsync(context, Unavailability.HostStopping).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await WriteErrorAsync(context, ItemResult.Error(ItemStatus.TimedOut, "")).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            // The same outcome the runner protocol would carry, told the same way.
            await WriteErrorAsync(context, ItemResults.FromException(ex, RunnerName, method.Name, cts.Token)).ConfigureAwait(false);
            return;
        }
        await ApiResponses.WriteResultAsync(context, OutputContentType, result).ConfigureAwait(false);
    }

    private Task WriteErrorAsync(HttpContext context, in ItemResult result)
    {
        var error = RunnerCallErrors.Map(result.Status, result.Message, TimeSpan.Zero, RunnerName, method.Name, timeout, InputNoun);
        if (error.Quiet is { } quiet)
            return UnavailableResponses.WriteAsync(context, quiet);
        return ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, exception: result.Exception, logMessage: error.Detail);
    }
}
