namespace Serving.Worker.Batching;

/// <summary>
/// A snapshot of one <see cref="BatchDispatcher"/>'s counters since it started. Counts are items
/// unless named otherwise; the histograms merge across workers (<see cref="Histogram.Merge"/>).
/// </summary>
/// <param name="Queued">Items waiting now.</param>
/// <param name="Batches">Batches run (a batch isolated after a failure counts once).</param>
/// <param name="Items">Items that were part of a batch, whatever their result.</param>
/// <param name="Calls">Calls of the method: Batches plus the calls isolating failed batches.</param>
/// <param name="Shed">Items refused because the queue was full (<see cref="ItemStatus.Overloaded"/>).</param>
/// <param name="TimedOut">Items whose deadline passed while they waited.</param>
/// <param name="Cancelled">Items cancelled while they waited.</param>
/// <param name="Stopped">Items completed <see cref="ItemStatus.Stopping"/> without running.</param>
/// <param name="BatchSize">Items per batch.</param>
/// <param name="QueueWaitMs">Milliseconds from enqueue to the start of the item's batch, for items that ran.</param>
/// <param name="PerItemMs">The cost model's time per item (milliseconds).</param>
/// <param name="PerCallMs">The cost model's fixed time per call (milliseconds).</param>
internal sealed record BatchStatistics(long Queued, long Batches, long Items, long Calls, long Shed, long TimedOut, long Cancelled, long Stopped,
    Histogram BatchSize, Histogram QueueWaitMs, double PerItemMs, double PerCallMs)
{
    /// <summary>Items per batch on average (0 before the first batch).</summary>
    public double MeanBatchSize => Batches == 0 ? 0 : (double)Items / Batches;

    /// <summary>The 99th percentile of <see cref="QueueWaitMs"/>, read from its buckets (±19 %).</summary>
    public double P99QueueWaitMs => QueueWaitMs.Quantile(0.99);
}
