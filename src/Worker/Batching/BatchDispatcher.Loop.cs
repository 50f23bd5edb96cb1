namespace Serving.Worker.Batching;

// The dispatch loop: deciding to wait or run, calling the method, completing the batch; and how the loop sleeps and is woken.
internal sealed partial class BatchDispatcher
{
    private async Task RunAsync()
    {
        var max = Options.MaxBatchSize;
        var batch = new BatchItem[max];
        var inputs = new ReadOnlyMemory<byte>[max];
        var results = new ItemResult[max];
        while (true)
        {
            Task? wait = null;
            var count = 0;
            List<BatchItem>? expired = null;
            CancellationTokenSource? cancellation = null;
            lock (_gate)
            {
                var now = _time.GetTimestamp();
                var oldest = OldestQueued();
                if (oldest is null)
                {
                    if (_closing)
                    {
                        _state = LoopState.Stopped;
                        return;
                    }
                    wait = Sleep(Timeout.InfiniteTimeSpan);
                    _state = LoopState.Idle;
                }
                else
                {
                    var seconds = _closing ? 0 : BatchWaitPolicy.WaitSeconds(_queued, Seconds(now - oldest.QueuedAt),
                        _arrivals.PerSecond(now, _time.TimestampFrequency), _cost.PerItem, _cost.PerCall, max, Options.MaxLatency.TotalSeconds);
                    // Rounded down to what the timer can time: waking a little early keeps the latency bound,
                    // and a wait shorter than that is not taken (it would spin on timers firing at once).
                    var ticks = (long)(seconds * TimeSpan.TicksPerSecond) / _resolution.Ticks * _resolution.Ticks;
                    if (ticks > 0)
                    {
                        wait = Sleep(TimeSpan.FromTicks(ticks));
                        _state = LoopState.Waiting;
                    }
                    else
                    {
                        count = Take(batch, now, ref expired);
                        if (count > 0)
                        {
                            cancellation = _batchCancellation = new CancellationTokenSource();
                            _batchUncancelled = count;
                            _state = LoopState.Running;
                        }
                    }
                }
            }

            CompleteAll(expired, ItemResults.TimedOut(_runner, _method));
            if (wait is not null)
            {
                await wait.ConfigureAwait(false);
                continue;
            }
            if (count > 0)
                await RunBatchAsync(batch, inputs, results, count, cancellation!).ConfigureAwait(false);
        }
    }

    private async Task RunBatchAsync(BatchItem[] batch, ReadOnlyMemory<byte>[] inputs, ItemResult[] results, int count, CancellationTokenSource cancellation)
    {
        for (var i = 0; i < count; i++)
            inputs[i] = batch[i].Input;

        var token = cancellation.Token;
        var started = _time.GetTimestamp();
        int calls;
        try
        {
            calls = await _invoke(inputs.AsMemory(0, count), results.AsMemory(0, count), token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The invoker reports the method's failures per item; this is a failure of the invoker itself.
            calls = 1;
            for (var i = 0; i < count; i++)
                results[i] = ItemResults.FromException(ex, _runner, _method, token);
        }
        var finished = _time.GetTimestamp();

        bool abandoned;
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
                batch[i].QueueState = ItemState.Completed;
            _batchCancellation = null;
            abandoned = _abandoned;
            _batches++;
            _items += count;
            _calls += calls;
            _batchSizes.Record(count);
            _metrics.Batch(count);
            // A batch that was isolated ran several calls: its time says nothing about one call of its size.
            if (calls == 1)
                _cost.Observe(count, Seconds(finished - started));
        }

        for (var i = 0; i < count; i++)
        {
            var item = batch[i];
            item.QueueRegistration.Unregister();
            var result = results[i];
            if (abandoned && result.Status == ItemStatus.Cancelled && !item.Cancellation.IsCancellationRequested)
                result = ItemResults.Stopping(_runner);
            Complete(item, result);
        }
        Array.Clear(batch, 0, count);
        Array.Clear(inputs, 0, count);
        Array.Clear(results, 0, count);
    }

    /// <summary>Under the lock: a task the loop awaits until an arrival, a drain, or <paramref name="delay"/>.</summary>
    private Task Sleep(TimeSpan delay)
    {
        // Continuations run on the thread pool: the arriving thread is a connection's read loop, which
        // must never run a model call (cancels and pings behind it would wait for the batch).
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _wake = wake;
        _waitTimer.Change(delay == Timeout.InfiniteTimeSpan ? delay : Clamp(delay), Timeout.InfiniteTimeSpan);
        return wake.Task;
    }

    private void Wake()
    {
        TaskCompletionSource? wake;
        lock (_gate)
            wake = TakeWake();
        wake?.TrySetResult();
    }

    /// <summary>Under the lock: the loop's wake-up, if it is asleep (the caller completes it outside the lock).</summary>
    private TaskCompletionSource? TakeWake()
    {
        var wake = _wake;
        if (wake is not null)
        {
            _wake = null;
            _state = LoopState.Deciding;
        }
        return wake;
    }
}
