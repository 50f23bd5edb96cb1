using Google.Protobuf;
using Grpc.Core;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Transport;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>API role: one call over the runner protocol, the request's bytes passed on without a copy.</summary>
internal sealed class RemoteFrontDoorApi(ApiConfig config, RunnerClient runner) : FrontDoorApi(config)
{
    private readonly RemoteMethod _remote = new(config);

    public override async Task<ByteString> CallAsync(ByteString input, ServerCallContext context)
    {
        if (runner.Unavailable is { } down)
            throw UnavailableResponses.ToRpcException(context, down);
        var deadline = Deadline(context, runner.Timeout, out var clientsIsEarlier);
        var timeout = deadline - DateTime.UtcNow;
        if (timeout <= TimeSpan.Zero)
            throw TimedOut(context, runner.Timeout, clientsIsEarlier);
        var header = _remote.Header(timeout, context.GetHttpContext().TraceIdentifier);
        var reply = await runner.CallAsync(header, input.Memory, context.CancellationToken).ConfigureAwait(false);
        if (reply.Status == ItemStatus.Ok)
        {
            var output = ByteString.CopyFrom(reply.Output.Span);
            reply.Release();
            return output;
        }
        if (context.CancellationToken.IsCancellationRequested)
            throw ClientGone(context);
        // Failed because the runner went down or the drain's time is up: say so, with a retry hint.
        if (runner.UnavailableBehind(reply) is { } why)
            throw UnavailableResponses.ToRpcException(context, why);
        throw Failed(context, ItemResult.Error(reply.Status, reply.Message ?? ""), reply.RetryAfter, runner.Timeout, clientsIsEarlier);
    }
}
