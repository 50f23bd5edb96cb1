using System.Buffers;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Serving.Abstractions;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Protocol;
using Serving.Worker.Runners;

namespace Serving.Worker.Api;

/// <summary>One <c>POST &lt;route&gt;</c>: how its request reaches the runner.</summary>
internal abstract class ApiRoute(ApiConfig config, long maxBodyBytes)
{
    /// <summary>The largest request body this route accepts (413 above it).</summary>
    public long MaxBodyBytes { get; } = maxBodyBytes;

    public string Route { get; } = config.Route;
    public string RunnerName { get; } = config.Runner;
    public string MethodName { get; } = config.Method;
    public PayloadKind InputKind { get; } = config.InputKind;
    public string OutputContentType { get; } = ApiResponses.ContentTypeOf(config.OutputKind);

    /// <summary>
    /// Calls the runner with the request body in <paramref name="rented"/>[0..<paramref name="length"/>)
    /// (an ArrayPool buffer this method now owns) and writes the response.
    /// </summary>
    public abstract Task InvokeAsync(HttpContext context, byte[] rented, int length);
}

/// <summary>API role: a unary gRPC call to the runner's endpoint.</summary>
internal sealed class GrpcApiRoute(ApiConfig config, RunnerChannels runner, long maxRequestBodyBytes, int? maxMessageBytes)
    : ApiRoute(config, MaxPayload(config, maxRequestBodyBytes, maxMessageBytes))
{
    /// <summary>The body limit, lowered so the CallRequest (method name + framing) fits the message limit.</summary>
    private static long MaxPayload(ApiConfig config, long maxRequestBodyBytes, int? maxMessageBytes) =>
        maxMessageBytes is { } limit
            ? Math.Min(maxRequestBodyBytes, limit - (System.Text.Encoding.UTF8.GetByteCount(config.Method) + 16))
            : maxRequestBodyBytes;

    public override async Task InvokeAsync(HttpContext context, byte[] rented, int length)
    {
        if (runner.Unavailable is { } down)
        {
            ArrayPool<byte>.Shared.Return(rented);
            await UnavailableResponses.WriteAsync(context, down).ConfigureAwait(false);
            return;
        }
        var request = new CallRequest { Method = MethodName };
        request.Payloads.Add(UnsafeByteOperations.UnsafeWrap(new ReadOnlyMemory<byte>(rented, 0, length)));
        var options = new CallOptions(runner.Headers, DateTime.UtcNow.Add(runner.Timeout), context.RequestAborted);

        CallReply reply;
        try
        {
            reply = await runner.CallAsync(request, options).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            // The request may still be referenced by a failed send: let the GC have the buffer.
            if (ex.StatusCode == StatusCode.Cancelled && context.RequestAborted.IsCancellationRequested)
                return;
            // Cancelled because the runner went down or the drain's time is up: say so, with a retry hint.
            if (runner.Unavailable is { } why)
            {
                await UnavailableResponses.WriteAsync(context, why).ConfigureAwait(false);
                return;
            }
            var error = RunnerCallErrors.Map(ex, RunnerName, MethodName, runner.Timeout);
            await ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, logMessage: error.LogMessage).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await ApiResponses.WriteProblemAsync(context, Problems.InternalError, $"the call to runner '{RunnerName}' method '{MethodName}' failed",
                exception: ex).ConfigureAwait(false);
            return;
        }

        // The runner answered, so the request was fully sent: the buffer is free again.
        ArrayPool<byte>.Shared.Return(rented);
        var payloads = reply.Payloads;
        var body = payloads.Count > 0 ? payloads[0].Memory : ReadOnlyMemory<byte>.Empty;
        await ApiResponses.WriteResultAsync(context, OutputContentType, body).ConfigureAwait(false);
    }
}

/// <summary>Dev role: the runner method is invoked in this process, no gRPC hop.</summary>
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
            var pending = method.Invoke(input, cts.Token);
            result = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (RunnerInputException ex)
        {
            await ApiResponses.WriteProblemAsync(context, Problems.InvalidInput, ex.Message).ConfigureAwait(false);
            return;
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
            await ApiResponses.WriteProblemAsync(context, Problems.RunnerTimeout,
                string.Create(CultureInfo.InvariantCulture, $"runner '{RunnerName}' did not answer within {timeout.TotalSeconds:0.###} s")).ConfigureAwait(false);
            return;
        }
        catch (RpcException ex)
        {
            // A runner method's own status: as if it had come over the runner hop.
            var error = RunnerCallErrors.Map(ex, RunnerName, method.Name, timeout);
            await ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, exception: ex, logMessage: error.LogMessage).ConfigureAwait(false);
            return;
        }
        catch (RunnerResultException ex)
        {
            await ApiResponses.WriteProblemAsync(context, Problems.RunnerFailed, $"runner '{RunnerName}' method '{method.Name}' {ex.Message}",
                exception: ex.InnerException).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            await ApiResponses.WriteProblemAsync(context, Problems.RunnerFailed, $"runner '{RunnerName}' method '{method.Name}' failed",
                exception: ex).ConfigureAwait(false);
            return;
        }
        await ApiResponses.WriteResultAsync(context, OutputContentType, result).ConfigureAwait(false);
    }
}
