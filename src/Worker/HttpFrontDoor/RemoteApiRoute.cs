using System.Buffers;
using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Transport;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>API role: one call over the runner protocol (docs/worker-protocol.md, "Runner calls").</summary>
internal sealed class RemoteApiRoute(ApiConfig config, RunnerClient runner, long maxRequestBodyBytes, long maxFramePayload)
    : ApiRoute(config, Math.Min(maxRequestBodyBytes, maxFramePayload - RunnerFrames.CallOverhead(config.Method)))
{
    private readonly RemoteMethod _remote = new(config);

    public override async Task InvokeAsync(HttpContext context, byte[] rented, int length)
    {
        if (runner.Unavailable is { } down)
        {
            ArrayPool<byte>.Shared.Return(rented);
            await UnavailableResponses.WriteAsync(context, down).ConfigureAwait(false);
            return;
        }
        var timeout = runner.Timeout;
        RunnerReply reply;
        try
        {
            reply = await runner.CallAsync(_remote.Header(timeout, context.TraceIdentifier), new ReadOnlyMemory<byte>(rented, 0, length),
                context.RequestAborted).ConfigureAwait(false);
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
        if (runner.UnavailableBehind(reply) is { } why)
        {
            await UnavailableResponses.WriteAsync(context, why).ConfigureAwait(false);
            return;
        }
        var error = RunnerCallErrors.Map(reply.Status, reply.Message, reply.RetryAfter, RunnerName, MethodName, timeout, InputNoun);
        if (error.Quiet is { } quiet)
            await UnavailableResponses.WriteAsync(context, quiet).ConfigureAwait(false);
        else
            await ApiResponses.WriteProblemAsync(context, error.Problem, error.Detail, logMessage: error.LogMessage).ConfigureAwait(false);
    }
}
