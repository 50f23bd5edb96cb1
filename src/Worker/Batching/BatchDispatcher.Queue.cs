namespace Serving.Worker.Batching;

// The queue: admission of items, their cancellation and deadlines while queued, and taking a batch.
internal sealed partial class BatchDispatcher
{
    /// <summary>
    /// Admits every item or none. Refused items are completed before this returns: <see cref="ItemStatus.Overloaded"/>
    /// (the queue is full) or <see cref="ItemStatus.Stopping"/> (the dispatcher is draining); so are items
    /// already cancelled or past their deadline. Never blocks on the model. Each item is enqueued once.
    /// </summary>
    public void Enqueue(ReadOnlySpan<BatchItem> items)
    {
        if (items.IsEmpty)
            return;

        // Registered before the items can be seen by the loop: a cancellation that comes first finds an
        // item in no state and does nothing, and the item is then found cancelled below.
        foreach (var item in items)
        {
            item.QueueOwner = this;
            item.QueueRegistration = item.Cancellation.CanBeCanceled ? item.Cancellation.UnsafeRegister(OnCancelledCallback, item) : default;
        }

        ItemResult? refusal = null;
        List<BatchItem>? cancelled = null, expired = null;
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            if (_closing || (_queued > 0 && _queued + items.Length > Options.MaxQueueLength))
            {
                if (_closing)
                {
                    refusal = ItemResults.Stopping(_runner);
                    _stopped += items.Length;
                }
                else
                {
                    refusal = ItemResults.Overloaded(_runner, _method);
                    _shed += items.Length;
                    _metrics.Shed(items.Length);
                }
                foreach (var item in items)
                    item.QueueState = ItemState.Completed;
            }
            else
            {
                var now = _time.GetTimestamp();
                var admitted = 0;
                var earliest = _deadlineArmedFor;
                foreach (var item in items)
                {
                    if (item.Cancellation.IsCancellationRequested)
                    {
                        item.QueueState = ItemState.Completed;
                        _cancelled++;
                        (cancelled ??= []).Add(item);
                    }
                    else if (item.Deadline <= now)
                    {
                        item.QueueState = ItemState.Completed;
                        _timedOut++;
                        (expired ??= []).Add(item);
                    }
                    else
                    {
                        item.QueueState = ItemState.Queued;
                        item.QueuedAt = now;
                        _ring.Push(item);
                        admitted++;
                        earliest = Math.Min(earliest, item.Deadline);
                    }
                }
                if (admitted > 0)
                {
                    _queued += admitted;
                    _arrivals.Record(now, admitted);
                    wake = TakeWake();
                }
                if (earliest < _deadlineArmedFor)
                {
                    _deadlineArmedFor = earliest;
                    _deadlineTimer.Change(Delay(earliest - now), Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (refusal is { } refused)
        {
            foreach (var item in items)
            {
                item.QueueRegistration.Unregister();
                Complete(item, refused);
            }
            return;
        }
        CompleteAll(cancelled, ItemResults.Cancelled);
        CompleteAll(expired, ItemResults.TimedOut(_runner, _method));
        wake?.TrySetResult();
    }

    /// <summary>The cancellation callback of a queued or running item.</summary>
    private void OnCancelled(BatchItem item)
    {
        var complete = false;
        CancellationTokenSource? cancelBatch = null;
        lock (_gate)
        {
            if (item.QueueState == ItemState.Queued)
            {
                item.QueueState = ItemState.Completed;
                _queued--;
                _cancelled++;
                complete = true;
            }
            else if (item.QueueState == ItemState.Running && --_batchUncancelled == 0)
            {
                cancelBatch = _batchCancellation;
            }
        }
        if (complete)
            Complete(item, ItemResults.Cancelled);
        Cancel(cancelBatch);
    }

    private void SweepDeadlines()
    {
        List<BatchItem>? expired = null;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var next = long.MaxValue;
            for (var i = 0; i < _ring.Length; i++)
            {
                var item = _ring[i];
                if (item.QueueState != ItemState.Queued)
                    continue;
                if (item.Deadline <= now)
                {
                    item.QueueState = ItemState.Completed;
                    _queued--;
                    _timedOut++;
                    (expired ??= []).Add(item);
                }
                else
                {
                    next = Math.Min(next, item.Deadline);
                }
            }
            _deadlineArmedFor = next;
            if (!_timersDisposed)
                _deadlineTimer.Change(next == long.MaxValue ? Timeout.InfiniteTimeSpan : Delay(next - now), Timeout.InfiniteTimeSpan);
        }
        CompleteAll(expired, ItemResults.TimedOut(_runner, _method));
    }

    /// <summary>Under the lock: up to MaxBatchSize queued items, oldest first; those past their deadline go to <paramref name="expired"/>.</summary>
    private int Take(BatchItem[] batch, long now, ref List<BatchItem>? expired)
    {
        var count = 0;
        while (count < batch.Length && _ring.Length > 0)
        {
            var item = _ring[0];
            _ring.PopOldest();
            if (item.QueueState != ItemState.Queued)
                continue;
            _queued--;
            if (item.Deadline <= now)
            {
                item.QueueState = ItemState.Completed;
                _timedOut++;
                (expired ??= []).Add(item);
                continue;
            }
            item.QueueState = ItemState.Running;
            _queueWaits.Record(Seconds(now - item.QueuedAt) * 1000);
            _metrics.QueueWait(Seconds(now - item.QueuedAt));
            batch[count++] = item;
        }
        return count;
    }

    /// <summary>Under the lock: the oldest live item, dropping completed ones from the front.</summary>
    private BatchItem? OldestQueued()
    {
        while (_ring.Length > 0)
        {
            var item = _ring[0];
            if (item.QueueState == ItemState.Queued)
                return item;
            _ring.PopOldest();
        }
        return null;
    }
}
