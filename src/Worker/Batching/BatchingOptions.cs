using Serving.Worker.Hosting;
using Serving.Worker.Runners;

namespace Serving.Worker.Batching;

/// <summary>How one <see cref="BatchDispatcher"/> batches.</summary>
/// <param name="MaxBatchSize">The most items one call takes (1 to 4096).</param>
/// <param name="MaxLatency">The bound on an item's deliberate wait plus its call's predicted run time.</param>
/// <param name="MaxQueueLength">The most items waiting; an enqueue that would exceed it is shed whole.</param>
internal sealed record BatchingOptions(int MaxBatchSize, TimeSpan MaxLatency, int MaxQueueLength)
{
    /// <summary>
    /// The method's own settings, with the API's manifest override (host.json <c>maxBatchSize</c>,
    /// <c>maxLatencyMs</c>) when there is one; the queue bound is <paramref name="maxQueueLength"/> items
    /// when given, else <paramref name="queueBatches"/> batches (<see cref="WorkerTuning.BatchQueueBatches"/>).
    /// </summary>
    public static BatchingOptions For(BoundMethod method, ApiConfig? api = null, int? maxQueueLength = null, int? queueBatches = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!method.Batchable)
            throw new ArgumentException($"runner '{method.RunnerName}' method '{method.Name}' is not batchable", nameof(method));
        var size = api?.MaxBatchSize ?? method.MaxBatchSize;
        var latency = api?.MaxLatencyMs is { } ms ? TimeSpan.FromMilliseconds(ms) : method.MaxLatency;
        return new BatchingOptions(size, latency, maxQueueLength ?? (queueBatches ?? new WorkerTuning().BatchQueueBatches) * size);
    }
}
