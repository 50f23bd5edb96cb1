namespace Serving.Worker.Batching;

// Draining and abandoning.
internal sealed partial class BatchDispatcher
{
    /// <summary>
    /// Stops admitting (later items are completed <see cref="ItemStatus.Stopping"/>), runs what is queued
    /// without waiting for more, and returns when the loop has ended. When <paramref name="abandon"/> fires
    /// first, <see cref="Abandon"/>: what is still queued is completed Stopping and the running call's token
    /// is cancelled; the call itself is still awaited (bound it with the caller's own deadline).
    /// </summary>
    public async Task DrainAsync(CancellationToken abandon = default)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _closing = true;
            wake = TakeWake();
        }
        wake?.TrySetResult();
        using (abandon.UnsafeRegister(static state => ((BatchDispatcher)state!).Abandon(), this))
            await _loop.ConfigureAwait(false);
        lock (_gate)
            _timersDisposed = true;
        await _waitTimer.DisposeAsync().ConfigureAwait(false);
        await _deadlineTimer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Drains (<see cref="DrainAsync"/> without abandoning).</summary>
    public async ValueTask DisposeAsync() => await DrainAsync().ConfigureAwait(false);

    /// <summary>
    /// Completes every queued item <see cref="ItemStatus.Stopping"/> now, refuses later ones, and cancels
    /// the running call's token (its items whose own token did not fire then end Stopping, unless the
    /// method finished them anyway).
    /// </summary>
    public void Abandon()
    {
        List<BatchItem>? dropped = null;
        CancellationTokenSource? running;
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _closing = true;
            _abandoned = true;
            for (var i = 0; i < _ring.Length; i++)
            {
                var item = _ring[i];
                if (item.QueueState == ItemState.Queued)
                {
                    item.QueueState = ItemState.Completed;
                    (dropped ??= []).Add(item);
                }
            }
            _ring.Clear();
            _queued = 0;
            _stopped += dropped?.Count ?? 0;
            running = _batchCancellation;
            wake = TakeWake();
        }
        CompleteAll(dropped, ItemResults.Stopping(_runner));
        Cancel(running);
        wake?.TrySetResult();
    }
}
