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
/// <para>
/// <b>Files.</b> This one holds the state, the construction and the snapshots; <c>BatchDispatcher.Queue.cs</c>
/// admission, cancellation and deadlines of queued items; <c>BatchDispatcher.Loop.cs</c> the dispatch loop;
/// <c>BatchDispatcher.Stopping.cs</c> draining and abandoning.
/// </para>
/// </remarks>
internal sealed partial class BatchDispatcher : IAsyncDisposable
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
