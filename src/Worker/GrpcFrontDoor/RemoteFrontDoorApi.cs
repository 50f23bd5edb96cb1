using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;
using Serving.Worker.Transport;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>API role: one call over the runner protocol, the request's bytes passed on without a copy.</summary>
internal sealed class RemoteFrontDoorApi(ApiConfig config, RunnerClient runner) : FrontDoorApi(config)
{
    private readonly ReadOnlyMemory<byte> _method = System.Text.Encoding.UTF8.GetBytes(config.Method);
    private readonly short _apiIndex = (short)config.Index;
    private readonly byte _flags = config.InputKind == PayloadKind.Json ? CallHeader.InstancesAllowed : (byte)0;

    public override async Task<ByteString> CallAsync(ByteString input, ServerCallContext context)
    {
        if (runner.Unavailable is { } down)
            throw UnavailableResponses.ToRpcException(context, down);
        var deadline = Deadline(context, runner.Timeout, out var clientsIsEarlier);
        var timeout = deadline - DateTime.UtcNow;
        if (timeout <= TimeSpan.Zero)
            throw TimedOut(context, runner.Timeout, clientsIsEarlier);
        var header = new CallHeader(_apiIndex, _method, (uint)Math.Max(1, timeout.TotalMilliseconds), _flags, context.GetHttpContext().TraceIdentifier);
        var reply = await runner.CallAsync(header, input.Memory, timeout, context.CancellationToken).ConfigureAwait(false);
        if (reply.Status == ItemStatus.Ok)
        {
            var output = ByteString.CopyFrom(reply.Output.Span);
            reply.Release();
            return output;
        }
        if (context.CancellationToken.IsCancellationRequested)
            throw ClientGone(context);
        // Failed because the runner went down or the drain's time is up: say so, with a retry hint.
        if (reply.Status is ItemStatus.Unreachable or ItemStatus.Cancelled && runner.Unavailable is { } why)
            throw UnavailableResponses.ToRpcException(context, why);
        throw Failed(context, ItemResult.Error(reply.Status, reply.Message ?? ""), reply.RetryAfter, runner.Timeout, clientsIsEarlier);
    }
}
