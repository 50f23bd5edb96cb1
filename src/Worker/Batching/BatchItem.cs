namespace Serving.Worker.Batching;

/// <summary>
/// One item waiting for a batch. The runner transport (or the in-process dev route) subclasses it;
/// the <see cref="BatchDispatcher"/> calls <see cref="Complete"/> exactly once, on any thread.
/// </summary>
internal abstract class BatchItem
{
    /// <summary>The encoded input; valid until <see cref="Complete"/> was called.</summary>
    public ReadOnlyMemory<byte> Input { get; set; }

    /// <summary>
    /// When the item's caller stops waiting, as a <see cref="TimeProvider.GetTimestamp"/> value of the
    /// dispatcher's time provider; <see cref="long.MaxValue"/> for none. An item still queued then is
    /// completed <see cref="ItemStatus.TimedOut"/> without running.
    /// </summary>
    public long Deadline { get; set; } = long.MaxValue;

    /// <summary>The caller's cancellation: an item still queued when it fires is completed <see cref="ItemStatus.Cancelled"/>.</summary>
    public CancellationToken Cancellation { get; set; }

    /// <summary>Called exactly once with the item's outcome.</summary>
    public abstract void Complete(in ItemResult result);

    // The dispatcher's bookkeeping while the item is in its hands (from Enqueue to Complete), kept on
    // the item so that queueing one allocates nothing. Only BatchDispatcher reads or writes these.

    /// <summary>Where the item is in its dispatcher (guarded by the dispatcher's lock).</summary>
    internal BatchDispatcher.ItemState QueueState;

    /// <summary>The dispatcher the item was enqueued to (for its cancellation callback).</summary>
    internal BatchDispatcher? QueueOwner;

    /// <summary>When it was enqueued (the dispatcher's clock).</summary>
    internal long QueuedAt;

    /// <summary>The dispatcher's registration on <see cref="Cancellation"/>.</summary>
    internal CancellationTokenRegistration QueueRegistration;
}
