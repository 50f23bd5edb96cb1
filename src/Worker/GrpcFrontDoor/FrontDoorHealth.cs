using Grpc.Core;
using Grpc.Health.V1;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Hosting;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>
/// <c>grpc.health.v1.Health</c> of the gRPC front door: NOT_SERVING until every runner is ready
/// (the same <see cref="IReadinessSource"/> as <c>/readyz</c>), SERVING after, NOT_SERVING once a
/// stop or drain began. Answers for <c>""</c> and <c>serving.v1.Serving</c>; any other service
/// name is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch), per the health checking protocol.
/// </summary>
internal sealed class FrontDoorHealth(IReadinessSource readiness, Lifeline lifeline) : Health.HealthBase
{
    /// <summary>How often a Watch looks at the readiness source (which caches its answer for 500 ms).</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(250);

    public static readonly string ServiceName = global::Serving.Grpc.V1.Serving.Descriptor.FullName;

    private static readonly HealthCheckResponse Serving = new() { Status = ServingStatus.Serving };
    private static readonly HealthCheckResponse NotServing = new() { Status = ServingStatus.NotServing };
    private static readonly HealthCheckResponse Unknown = new() { Status = ServingStatus.ServiceUnknown };

    private static bool IsKnown(string service) => service.Length == 0 || string.Equals(service, ServiceName, StringComparison.Ordinal);

    public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        if (!IsKnown(request.Service))
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown service '{request.Service}'"));
        return await CurrentAsync().ConfigureAwait(false) ? Serving : NotServing;
    }

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        try
        {
            await WatchAsync(IsKnown(request.Service), responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.CancellationToken.IsCancellationRequested && ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The client went away (mid-write, too): nothing to report.
        }
    }

    private async Task WatchAsync(bool known, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        var last = known && await CurrentAsync().ConfigureAwait(false);
        await responseStream.WriteAsync(!known ? Unknown : last ? Serving : NotServing).ConfigureAwait(false);

        // Ends when the client goes away or a stop begins (after a last NOT_SERVING), so open
        // watches never hold up a drain.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifeline.StopToken);
        using var timer = new PeriodicTimer(WatchInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cts.Token).ConfigureAwait(false))
            {
                if (!known)
                    continue;
                var now = await CurrentAsync().ConfigureAwait(false);
                if (now != last)
                {
                    last = now;
                    await responseStream.WriteAsync(now ? Serving : NotServing).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        if (known && last && lifeline.IsStopping && !context.CancellationToken.IsCancellationRequested)
            await responseStream.WriteAsync(NotServing).ConfigureAwait(false);
    }

    /// <summary>True when serving: no stop began and every runner is ready.</summary>
    private async ValueTask<bool> CurrentAsync()
    {
        if (lifeline.IsStopping || lifeline.FailingReason is not null)
            return false;
        var report = await readiness.GetAsync().ConfigureAwait(false);
        return report.AllReady && !lifeline.IsStopping;
    }
}
