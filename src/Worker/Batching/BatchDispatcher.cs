using Serving.Worker.Metrics;
using Serving.Worker.Runners;

namespace Serving.Worker.Batching;

/// <summary>
/// Gathers the items of one batchable method (or of one API overriding its batching) into batch calls:
/// a bounded queue, one dispatch loop, an adaptive wait (<see cref="BatchWaitPolicy"/>) priced with a cost
/// model fitted online (<see cref="BatchCostModel"/>). Every item enqueued is completed exactly once.
/// </summary>
/// <remarks>
/// <para>
/// <b>One call at a time.</b> A single loop calls the method, so calls of one dispatcher never overlap.
/// A batchable model is written to use the machine for a whole batch (one vectorised pass, a device
/// kernel); two calls at once would compete for the same cores or device and each run slower, and the
/// items that arrive during a call are exactly what makes the next batch big: the queue fills while
/// the model is busy. The cost model also needs calls that do not overlap, or it would measure the
/// contention. Calls do overlap across dispatchers (two APIs overriding the batching of one method get
/// one dispatcher each) and with the method's direct single calls, which the runner contract allows
/// (methods are safe to call concurrently).
/// </para>
/// <para>
/// <b>Admission.</b> <see cref="Enqueue"/> takes items all or nothing, so an <c>instances</c> request is
/// never half served: when they would make the queue longer than <see cref="BatchingOptions.MaxQueueLength"/>
/// every one is completed <see cref="ItemStatus.Overloaded"/> at once (<see cref="SuggestedRetryAfter"/> says
/// when to come back). An empty queue admits any number, so a request larger than the bound is still
/// served rather than refused forever. An item cancelled while queued is completed <see cref="ItemStatus.Cancelled"/>
/// at once and no longer counts against the bound; one whose <see cref="BatchItem.Deadline"/> passes while
/// queued is completed <see cref="ItemStatus.TimedOut"/> (a timer armed for the earliest deadline) without running.
/// </para>
/// <para>
/// <b>During a call</b> the method's token is cancelled only when every item of the batch was cancelled
/// (or when the dispatcher is abandoned); items cancelled meanwhile are still completed with their
/// result. Failures are per item (<see cref="BatchInvoker"/>: decoding and encoding per item, isolation
/// of a batch that throws).
/// </para>
/// <para>
/// <b>Time</b> is read only from the <see cref="TimeProvider"/> given: timestamps, the wait, deadlines.
/// </para>
/// </remarks>
internal sealed class BatchDispatcher : IAsyncDisposable
{
    /// <summary>Where an item is (guarded by the dispatcher's lock).</summary>
    internal enum ItemState : byte { None, Queued, Running, Completed }

    /// <summary>
    /// What the dispatch loop is doing (for tests and diagnostics). Deciding: woken (or starting), it has
    /// not looked at the queue yet; Idle: asleep on an empty queue; Waiting: asleep, holding items for more.
    /// </summary>
    internal enum LoopState { Deciding, Idle, Waiting, Running, Stopped }

    private static readonly Action<object?> OnCancelledCallback = static state =>
    {
        var item = (BatchItem)state!;
        item.QueueOwner?.OnCancelled(item);
    };

    private readonly BatchInvoker _invoke;
    private readonly string _runner;
    private readonly string _method;
    private readonly TimeProvider _time;
    private readonly TimeSpan _resolution;
    private readonly ILogger? _log;
    private readonly BatchMetrics _metrics;
    private readonly object _gate = new();
    private readonly ITimer _waitTimer;
    private readonly ITimer _deadlineTimer;
    private readonly Task _loop;

    // The queue (completed items included until passed); _queued counts the live ones.
    private readonly BatchItemRing _ring;
    private int _queued;

    private TaskCompletionSource? _wake;
    private long _deadlineArmedFor = long.MaxValue;
    private bool _closing;
    private bool _abandoned;
    private bool _timersDisposed;
    private LoopState _state;
    private CancellationTokenSource? _batchCancellation;
    private int _batchUncancelled;

    private readonly BatchCostModel _cost = new();
    private readonly ArrivalRate _arrivals = new();
    private readonly HistogramRecorder _batchSizes = new(HistogramBuckets.BatchSize);
    private readonly HistogramRecorder _queueWaits = new(HistogramBuckets.QueueWaitMs);
    private long _batches;
    private long _items;
    private long _calls;
    private long _shed;
    private long _timedOut;
    private long _cancelled;
    private long _stopped;

    /// <summary>Starts the dispatch loop.</summary>
    /// <param name="method">A batchable method (<see cref="BoundMethod.Batchable"/>).</param>
    /// <param name="options">Its batching (<see cref="BatchingOptions.For"/>).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="log">Where a failure of an item's <see cref="BatchItem.Complete"/> is reported.</param>
    public BatchDispatcher(BoundMethod method, BatchingOptions options, TimeProvider? timeProvider = null, ILogger? log = null,
        BatchMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(options);
        if (!method.Batchable)
            throw new ArgumentException($"runner '{method.RunnerName}' method '{method.Name}' is not batchable", nameof(method));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxQueueLength, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLatency, TimeSpan.Zero, nameof(options));

        _invoke = method.InvokeBatch;
        _runner = method.RunnerName;
        _method = method.Name;
        Options = options;
        _time = timeProvider ?? TimeProvider.System;
        // The system clock's timers count whole milliseconds (a shorter due time fires at once), so a
        // wait is taken in whole milliseconds there; another clock (a test's) times any tick.
        _resolution = ReferenceEquals(_time, TimeProvider.System) ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromTicks(1);
        _log = log;
        _metrics = metrics ?? BatchMetrics.None;
        _ring = new BatchItemRing(Math.Max(16, Math.Min(options.MaxBatchSize * 2, options.MaxQueueLength)));
        _waitTimer = _time.CreateTimer(static state => ((BatchDispatcher)state!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _deadlineTimer = _time.CreateTimer(
            // Never sweep on the timer's own thread: a fake clock fires timers inside Advance, under its caller's locks.
            static state => ThreadPool.UnsafeQueueUserWorkItem(static d => d.SweepDeadlines(), (BatchDispatcher)state!, preferLocal: false),
            this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _loop = Task.Run(RunAsync);
    }

    public BatchingOptions Options { get; }

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

    /// <summary>
    /// How long a client refused <see cref="ItemStatus.Overloaded"/> should wait: the time the queue
    /// takes to drain at the rate recent calls ran (items per second of model time), 1 to 60 s.
    /// </summary>
    public TimeSpan SuggestedRetryAfter
    {
        get
        {
            lock (_gate)
            {
                var rate = _cost.Throughput;
                var seconds = rate > 0 ? Math.Ceiling(_queued / rate) : 1;
                return TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 60));
            }
        }
    }

    /// <summary>A consistent snapshot of the counters and histograms.</summary>
    public BatchStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new BatchStatistics(_queued, _batches, _items, _calls, _shed, _timedOut, _cancelled, _stopped,
                    _batchSizes.Snapshot(), _queueWaits.Snapshot(), _cost.PerItem * 1000, _cost.PerCall * 1000);
            }
        }
    }

    /// <summary>What the loop is doing now (tests wait for <see cref="LoopState.Waiting"/> before moving a fake clock).</summary>
    internal LoopState State
    {
        get
        {
            lock (_gate)
                return _state;
        }
    }

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

    private void CompleteAll(List<BatchItem>? items, ItemResult result)
    {
        if (items is null)
            return;
        foreach (var item in items)
        {
            item.QueueRegistration.Unregister();
            Complete(item, result);
        }
    }

    private void Complete(BatchItem item, in ItemResult result)
    {
        try
        {
            item.Complete(result);
        }
        catch (Exception ex)
        {
            // The transport's own failure: it must not stop the loop or the other items.
            _log?.LogError(ex, "runner '{Runner}' method '{Method}': completing a batch item threw", _runner, _method);
        }
    }

    private void Cancel(CancellationTokenSource? cancellation)
    {
        if (cancellation is null)
            return;
        try
        {
            cancellation.Cancel();
        }
        catch (AggregateException ex)
        {
            // A callback the method registered on its token threw.
            _log?.LogWarning(ex, "runner '{Runner}' method '{Method}': a cancellation callback threw", _runner, _method);
        }
    }

    private double Seconds(long timestamps) => (double)timestamps / _time.TimestampFrequency;

    /// <summary>A deadline timer's due time for <paramref name="timestamps"/> of this clock, rounded up to what the timer can time.</summary>
    private TimeSpan Delay(long timestamps)
    {
        var ticks = (long)Math.Ceiling(Math.Min(Seconds(timestamps), MaxTimerDelay.TotalSeconds) * TimeSpan.TicksPerSecond);
        return Clamp(TimeSpan.FromTicks((ticks + _resolution.Ticks - 1) / _resolution.Ticks * _resolution.Ticks));
    }

    /// <summary>
    /// At least one tick, so that a timer never fires inside Change (a fake clock fires due timers there,
    /// under the dispatcher's lock); at most <see cref="MaxTimerDelay"/> (the sweep re-arms).
    /// </summary>
    private static TimeSpan Clamp(TimeSpan delay) =>
        delay.Ticks < 1 ? TimeSpan.FromTicks(1) : delay > MaxTimerDelay ? MaxTimerDelay : delay;

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromHours(1);
}
