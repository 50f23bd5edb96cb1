using System.Buffers;
using System.Globalization;
using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;
using Serving.Worker.Transport;

namespace Serving.Worker.HttpFrontDoor;

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

/// <summary>API role: one call over the runner protocol (docs/worker-protocol.md, "Runner calls").</summary>
internal sealed class RemoteApiRoute(ApiConfig config, RunnerClient runner, long maxRequestBodyBytes, long maxFramePayload)
    : ApiRoute(config, Math.Min(maxRequestBodyBytes, maxFramePayload - RunnerFrames.CallOverhead(config.Method)))
{
    private readonly ReadOnlyMemory<byte> _method = System.Text.Encoding.UTF8.GetBytes(config.Method);
    private readonly short _apiIndex = (short)config.Index;
    private readonly byte _flags = config.InputKind == PayloadKind.Json ? CallHeader.InstancesAllowed : (byte)0;

    public override async Task InvokeAsync(HttpContext context, byte[] rented, int length)
    {
        if (runner.Unavailable is { } down)
        {
            ArrayPool<byte>.Shared.Return(rented);
            await UnavailableResponses.WriteAsync(context, down).ConfigureAwait(false);
            return;
        }
        var timeout = runner.Timeout;
        var header = new CallHeader(_apiIndex, _method, (uint)timeout.TotalMilliseconds, _flags, context.TraceIdentifier);
        RunnerReply reply;
        try
        {
            reply = await runner.CallAsync(header, new ReadOnlyMemory<byte>(rented, 0, length), timeout, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            // Sent (copied into the connection's buffer) or never sent: the body is free again either way.
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (reply.Status == ItemStatus.Ok)
        {
            try
            {
                await ApiResponses.WriteResultAsync(context, OutputContentType, reply.Output).ConfigureAwait(false);
            }
            finally
            {
                reply.Release();
            }
            return;
        }
        if (context.RequestAborted.IsCancellationRequested)
            return;
        // Failed because the runner went down or the drain's time is up: say so, with a retry hint.
        if (reply.Status is ItemStatus.Unreachable or ItemStatus.Cancelled && runner.Unavailable is { } why)
        {
            await UnavailableResponses.WriteAsync(context, why).ConfigureAwait(false);
            return;
        }
        var error = RunnerCallErrors.Map(reply.Status, reply.Message, reply.RetryAfter, RunnerName, MethodName, timeout);
        if (error.Quiet is { } quiet)
            await UnavailableResponses.WriteAsync(context, quiet).ConfigureAwait(false);
        else
            await ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, logMessage: error.LogMessage).ConfigureAwait(false);
    }
}

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
        var error = RunnerCallErrors.Map(result.Status, result.Message, TimeSpan.Zero, RunnerName, method.Name, timeout);
        if (error.Quiet is { } quiet)
            return UnavailableResponses.WriteAsync(context, quiet);
        return ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, exception: result.Exception, logMessage: error.Detail);
    }
}
