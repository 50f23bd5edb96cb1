using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Serving.Abstractions;
using Serving.Worker.Batching;
using Serving.Worker.Runners;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>
/// The model behind the dispatcher tests: records every call with the fake time it started, runs for
/// <see cref="Cost"/> of the batch's size on the fake clock, and can be held at a gate.
/// </summary>
public sealed class ClockRunner : Runner
{
    private TaskCompletionSource? _gate;

    public FakeTimeProvider Clock { get; } = new();

    /// <summary>How long a call of n items runs (the method moves the fake clock by it).</summary>
    public Func<int, TimeSpan> Cost { get; set; } = _ => TimeSpan.Zero;

    public ConcurrentQueue<(int[] Values, long StartedAt)> Calls { get; } = new();

    public int[] Sizes => [.. Calls.Select(c => c.Values.Length)];

    /// <summary>Outputs a call returns beyond (or, negative, short of) its inputs.</summary>
    public int Surplus { get; set; }

    public CancellationToken LastToken { get; private set; }

    /// <summary>The next call waits (with its token) until the returned gate is opened.</summary>
    public TaskCompletionSource HoldNextCall()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _gate, gate);
        return gate;
    }

    /// <summary>Each value times ten; a negative value fails the whole call.</summary>
    [RunnerMethod("run", Batchable = true, MaxBatchSize = 64, MaxLatencyMs = 10)]
    public async ValueTask<int[]> Run(int[] values, CancellationToken cancellationToken)
    {
        Calls.Enqueue((values, Clock.GetTimestamp()));
        LastToken = cancellationToken;
        if (Interlocked.Exchange(ref _gate, null) is { } gate)
            await gate.Task.WaitAsync(cancellationToken);
        if (values.Any(v => v < 0))
            throw new InvalidOperationException("a negative value");
        Clock.Advance(Cost(values.Length));
        return [.. values.Select(v => v * 10).Concat(Enumerable.Repeat(0, Math.Max(0, Surplus))).Take(values.Length + Surplus)];
    }
}

/// <summary>An item as a transport would give it: completion recorded with the fake time it came.</summary>
internal sealed class TestItem : BatchItem
{
    private readonly TimeProvider _clock;
    private readonly TaskCompletionSource<(ItemStatus Status, string Text)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completions;

    public TestItem(TimeProvider clock, string input, CancellationToken cancellation = default, long deadline = long.MaxValue)
    {
        _clock = clock;
        Input = Encoding.UTF8.GetBytes(input);
        Cancellation = cancellation;
        Deadline = deadline;
        EnqueuedAt = clock.GetTimestamp();
    }

    public long EnqueuedAt { get; }
    public long CompletedAt { get; private set; }
    public int Completions => Volatile.Read(ref _completions);
    public Task<(ItemStatus Status, string Text)> Done => _done.Task;
    public bool IsDone => _done.Task.IsCompleted;

    /// <summary>The outcome (once <see cref="IsDone"/>).</summary>
    public (ItemStatus Status, string Text) Outcome { get; private set; }

    public ItemStatus Status => Outcome.Status;
    public string Text => Outcome.Text;

    public override void Complete(in ItemResult result)
    {
        Interlocked.Increment(ref _completions);
        CompletedAt = _clock.GetTimestamp();
        // The output is valid only during this call: copy it.
        Outcome = (result.Status, result.Status == ItemStatus.Ok ? Encoding.UTF8.GetString(result.Output.Span) : result.Message ?? "");
        _done.TrySetResult(Outcome);
    }
}

/// <summary>
/// The batch dispatcher on a fake clock with a fake model. The dispatch loop runs on a thread of its own,
/// so the tests wait (polling, with a deadline) for it to settle before they move the clock: no sleeps.
/// </summary>
public sealed class BatchingDispatcherTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly ClockRunner _runner = new();
    private readonly BoundMethod _method;
    private readonly List<BatchDispatcher> _dispatchers = [];

    public BatchingDispatcherTests() => _method = MethodBinder.BindAll(_runner, "clock")["run"];

    public async ValueTask DisposeAsync()
    {
        foreach (var dispatcher in _dispatchers)
            await dispatcher.DisposeAsync();
    }

    private BatchDispatcher Dispatcher(int? maxBatchSize = null, int? maxLatencyMs = null, int? maxQueueLength = null, TimeSpan? maxLatency = null)
    {
        var options = BatchingOptions.For(_method, new Hosting.ApiConfig { MaxBatchSize = maxBatchSize, MaxLatencyMs = maxLatencyMs }, maxQueueLength);
        if (maxLatency is { } latency)
            options = options with { MaxLatency = latency };
        var dispatcher = new BatchDispatcher(_method, options, _runner.Clock);
        _dispatchers.Add(dispatcher);
        return dispatcher;
    }

    private TestItem Item(int value, CancellationToken cancellation = default, long deadline = long.MaxValue) =>
        new(_runner.Clock, value.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellation, deadline);

    private TestItem[] Items(int count, int first = 0) => [.. Enumerable.Range(first, count).Select(v => Item(v))];

    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond));

    private double ElapsedMs(long from, long to) => _runner.Clock.GetElapsedTime(from, to).TotalMilliseconds;

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("waited in vain for " + what);
            await Task.Delay(1);
        }
    }

    /// <summary>
    /// The loop is asleep (on an empty queue, or holding items for more): whatever it decided since it was
    /// woken is done, calls included (the model's fake time passes inside the call). Only then do the
    /// tests move the clock or enqueue, so the loop always decides at a known time.
    /// </summary>
    private static Task Settled(BatchDispatcher dispatcher) =>
        Until(() => dispatcher.State is BatchDispatcher.LoopState.Idle or BatchDispatcher.LoopState.Waiting or BatchDispatcher.LoopState.Stopped,
            "the dispatch loop to fall asleep");

    /// <summary>One item every <paramref name="step"/> of fake time until the model was called <paramref name="calls"/> times in all.</summary>
    private async Task<List<TestItem>> Stream(BatchDispatcher dispatcher, TimeSpan step, int calls)
    {
        var items = new List<TestItem>();
        while (true)
        {
            Assert.True(items.Count < 64, "the stream was never dispatched");
            var item = Item(items.Count);
            items.Add(item);
            dispatcher.Enqueue([item]);
            await Settled(dispatcher);
            if (_runner.Calls.Count >= calls)
                return items;
            _runner.Clock.Advance(step);
            await Settled(dispatcher);
            if (_runner.Calls.Count >= calls)
                return items;
        }
    }

    private static async Task AllDone(IEnumerable<TestItem> items)
    {
        foreach (var item in items)
            await item.Done.WaitAsync(Patience);
    }

    /// <summary>A call of 1 held at the gate, then <paramref name="burst"/> items: the model learns its cost from two sizes.</summary>
    private async Task Train(BatchDispatcher dispatcher, int burst)
    {
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");
        var items = Items(burst, 100);
        dispatcher.Enqueue(items);
        gate.SetResult();
        await AllDone([first, .. items]);
        Assert.Equal([1, burst], _runner.Sizes);
    }

    [Fact]
    public async Task No_call_takes_more_than_MaxBatchSize_items()
    {
        var dispatcher = Dispatcher();
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");

        var items = Items(150);
        foreach (var item in items)
            dispatcher.Enqueue([item]);
        gate.SetResult();
        await AllDone([first, .. items]);

        Assert.Equal([1, 64, 64, 22], _runner.Sizes);
        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal((ItemStatus.Ok, (i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture)), items[i].Outcome);
            Assert.Equal(1, items[i].Completions);
        }
    }

    [Fact]
    public async Task One_enqueue_of_many_is_one_batch_when_the_model_is_idle()
    {
        var dispatcher = Dispatcher();
        var items = Items(10);
        dispatcher.Enqueue(items);
        await AllDone(items);
        Assert.Equal([10], _runner.Sizes);

        var more = Items(100);
        dispatcher.Enqueue(more);
        await AllDone(more);
        Assert.Equal([10, 64, 36], _runner.Sizes);
    }

    [Fact]
    public async Task A_burst_that_arrives_while_the_model_runs_is_one_batch()
    {
        var dispatcher = Dispatcher();
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");
        var burst = Items(30);
        foreach (var item in burst)
            dispatcher.Enqueue([item]);
        gate.SetResult();
        await AllDone([first, .. burst]);
        Assert.Equal([1, 30], _runner.Sizes);
    }

    [Fact]
    public async Task One_client_calling_in_turn_is_served_without_waiting()
    {
        var dispatcher = Dispatcher();
        _runner.Cost = n => Ms(5 + 0.1 * n);
        await Train(dispatcher, 10);
        var statistics = dispatcher.Statistics;
        Assert.Equal(0.1, statistics.PerItemMs, 1e-9);
        Assert.Equal(5, statistics.PerCallMs, 1e-9);

        // A quiet second, then one request at a time with 10 ms between an answer and the next request.
        var waitedBefore = dispatcher.Statistics.QueueWaitMs.Sum;
        _runner.Clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 40; i++)
        {
            _runner.Clock.Advance(Ms(10));
            var item = Item(i);
            dispatcher.Enqueue([item]);
            // Completes without the test moving the clock: the dispatcher did not wait for company.
            await item.Done.WaitAsync(Patience);
            Assert.Equal(5.1, ElapsedMs(item.EnqueuedAt, item.CompletedAt), 1e-9);
        }
        Assert.All(_runner.Sizes.Skip(2), size => Assert.Equal(1, size));
        Assert.Equal(waitedBefore, dispatcher.Statistics.QueueWaitMs.Sum, 1e-9);
    }

    [Fact]
    public async Task A_dense_stream_is_gathered_while_waiting_pays()
    {
        var dispatcher = Dispatcher();
        _runner.Cost = n => Ms(5 + 0.01 * n);
        await Train(dispatcher, 10);

        // One request every 0.2 ms: with a 5 ms fixed cost per call, gathering them pays.
        var first = Item(1000);
        dispatcher.Enqueue([first]);
        await Settled(dispatcher);
        Assert.Equal(BatchDispatcher.LoopState.Waiting, dispatcher.State);
        _runner.Clock.Advance(Ms(0.2));
        await Settled(dispatcher);
        var stream = await Stream(dispatcher, Ms(0.2), calls: 3);
        await AllDone([first, .. stream]);

        var (values, startedAt) = _runner.Calls.ElementAt(2);
        Assert.Equal(stream.Count + 1, values.Length);
        Assert.True(values.Length >= 4, $"a batch of {values.Length}");
        // Never held so long that the predicted run would end past MaxLatency (10 ms); 0.2 ms: the clock's step.
        var held = ElapsedMs(first.EnqueuedAt, startedAt);
        Assert.True(held <= 10 - (5 + 0.01 * values.Length) + 0.2 + 1e-9, $"held {held} ms with {values.Length} items");
        Assert.Equal(3, dispatcher.Statistics.Calls);
    }

    [Fact]
    public async Task The_oldest_item_is_never_held_past_MaxLatency_minus_the_predicted_run()
    {
        var dispatcher = Dispatcher(maxLatency: Ms(4.5));
        _runner.Cost = n => Ms(4 + 0.01 * n);
        await Train(dispatcher, 10);

        // Waiting would pay for longer (4 ms fixed cost, a request every 0.1 ms), but the bound is 4.5 ms.
        var stream = await Stream(dispatcher, Ms(0.1), calls: 3);
        await AllDone(stream);

        var (values, startedAt) = _runner.Calls.ElementAt(2);
        Assert.Equal(stream.Count, values.Length);
        Assert.True(values.Length >= 2, $"a batch of {values.Length}: it did not wait at all");
        var room = 4.5 - (4 + 0.01 * values.Length);
        var held = ElapsedMs(stream[0].EnqueuedAt, startedAt);
        Assert.True(held <= room + 0.1 + 1e-9, $"held {held} ms with {values.Length} items");
        Assert.True(held >= room - 0.2, $"held {held} ms with {values.Length} items: gave up early");
        // The call ran as predicted: the first item's answer came within the bound (plus the clock's step).
        Assert.True(ElapsedMs(stream[0].EnqueuedAt, stream[0].CompletedAt) <= 4.5 + 0.1 + 1e-9);
    }

    [Fact]
    public async Task Once_arrivals_stop_the_wait_still_ends_within_the_bound()
    {
        var dispatcher = Dispatcher(maxLatencyMs: 5);
        _runner.Cost = n => Ms(4 + 0.01 * n);
        await Train(dispatcher, 10);

        var item = Item(7);
        dispatcher.Enqueue([item]);
        await Settled(dispatcher);
        Assert.Equal(BatchDispatcher.LoopState.Waiting, dispatcher.State);
        while (_runner.Calls.Count == 2)
        {
            _runner.Clock.Advance(Ms(0.05));
            await Settled(dispatcher);
        }
        await item.Done.WaitAsync(Patience);
        Assert.True(ElapsedMs(item.EnqueuedAt, item.CompletedAt) <= 5 + 0.05 + 1e-9);
        Assert.True(ElapsedMs(item.EnqueuedAt, _runner.Calls.Last().StartedAt) <= 5 - 4.01 + 0.05 + 1e-9);
    }

    [Fact]
    public async Task A_full_queue_sheds_a_whole_enqueue_at_once()
    {
        var dispatcher = Dispatcher(maxBatchSize: 4, maxQueueLength: 8);
        Assert.Equal(8, dispatcher.Options.MaxQueueLength);
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");

        var five = Items(5);
        dispatcher.Enqueue(five);
        var four = Items(4, 10);
        dispatcher.Enqueue(four);
        // Refused before Enqueue returned, all four: 5 + 4 > 8.
        Assert.All(four, i =>
        {
            Assert.True(i.IsDone);
            Assert.Equal(ItemStatus.Overloaded, i.Status);
            Assert.Equal("runner 'clock' method 'run' has more requests waiting than it takes; retry later", i.Text);
        });
        var three = Items(3, 20);
        dispatcher.Enqueue(three);
        Assert.All(three, i => Assert.False(i.IsDone));
        var statistics = dispatcher.Statistics;
        Assert.Equal(4, statistics.Shed);
        Assert.Equal(8, statistics.Queued);
        Assert.True(dispatcher.SuggestedRetryAfter >= TimeSpan.FromSeconds(1));

        gate.SetResult();
        await AllDone([first, .. five, .. three]);
        Assert.All(five.Concat(three), i => Assert.Equal(ItemStatus.Ok, i.Status));
        Assert.All(four, i => Assert.Equal(1, i.Completions));
        Assert.Equal([1, 4, 4], _runner.Sizes);

        // An empty queue takes any number: a request larger than the bound is served, not refused forever.
        var twenty = Items(20);
        dispatcher.Enqueue(twenty);
        await AllDone(twenty);
        Assert.All(twenty, i => Assert.Equal(ItemStatus.Ok, i.Status));
    }

    [Fact]
    public async Task The_retry_after_follows_the_rate_the_queue_drains_at()
    {
        var dispatcher = Dispatcher(maxBatchSize: 4, maxQueueLength: 400);
        _runner.Cost = n => TimeSpan.FromMilliseconds(100 * n); // 10 items per second
        await Train(dispatcher, 3);
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 3, "the held call");
        var queued = Items(250);
        dispatcher.Enqueue(queued);
        Assert.Equal(TimeSpan.FromSeconds(25), dispatcher.SuggestedRetryAfter);
        _runner.Cost = _ => TimeSpan.Zero;
        gate.SetResult();
        await AllDone(queued);
    }

    [Fact]
    public async Task Each_item_fails_on_its_own()
    {
        var dispatcher = Dispatcher();
        TestItem[] items = [Item(1), new(_runner.Clock, "\"x\""), Item(-5), Item(4)];
        dispatcher.Enqueue(items);
        await AllDone(items);

        Assert.Equal((ItemStatus.Ok, "10"), items[0].Outcome);
        Assert.Equal(ItemStatus.InvalidInput, items[1].Status);
        Assert.StartsWith("invalid input in $: expected an integer", items[1].Text);
        Assert.Equal((ItemStatus.Failed, "runner 'clock' method 'run' failed"), items[2].Outcome);
        Assert.Equal((ItemStatus.Ok, "40"), items[3].Outcome);
        // The three that decoded threw together; isolated: 1 alone, then [−5, 4] → −5 and 4 alone.
        Assert.Equal([3, 1, 2, 1, 1], _runner.Sizes);
        var statistics = dispatcher.Statistics;
        Assert.Equal(1, statistics.Batches);
        Assert.Equal(4, statistics.Items);
        Assert.Equal(5, statistics.Calls);
        foreach (var item in items)
            ClientText.AssertClean(item.Text);
    }

    [Fact]
    public async Task A_result_of_the_wrong_length_fails_the_whole_batch()
    {
        var dispatcher = Dispatcher();
        _runner.Surplus = 1;
        var items = Items(3);
        dispatcher.Enqueue(items);
        await AllDone(items);
        Assert.All(items, i => Assert.Equal((ItemStatus.Failed, "runner 'clock' method 'run' returned 4 outputs for 3 inputs"), i.Outcome));
        Assert.Equal([3], _runner.Sizes);
    }

    [Fact]
    public async Task An_item_cancelled_while_queued_leaves_at_once()
    {
        var dispatcher = Dispatcher();
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");

        using var cts = new CancellationTokenSource();
        var cancelled = Item(2, cts.Token);
        var kept = Item(3);
        dispatcher.Enqueue([cancelled]);
        dispatcher.Enqueue([kept]);
        cts.Cancel();
        Assert.True(cancelled.IsDone);
        Assert.Equal((ItemStatus.Cancelled, "the call was cancelled"), cancelled.Outcome);
        Assert.Equal(1, dispatcher.Statistics.Queued);
        Assert.Equal(1, dispatcher.Statistics.Cancelled);

        gate.SetResult();
        await AllDone([first, kept]);
        Assert.Equal([1, 1], _runner.Sizes);
        Assert.Equal([3], _runner.Calls.Last().Values);
        Assert.Equal(1, cancelled.Completions);

        // Already cancelled when enqueued: completed at once, never queued.
        var late = Item(4, cts.Token);
        dispatcher.Enqueue([late]);
        Assert.Equal(ItemStatus.Cancelled, late.Status);
    }

    [Fact]
    public async Task The_calls_token_fires_only_when_every_item_of_the_batch_was_cancelled()
    {
        var dispatcher = Dispatcher();
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        var gate = _runner.HoldNextCall();
        TestItem[] both = [Item(1, a.Token), Item(2, b.Token)];
        dispatcher.Enqueue(both);
        await Until(() => _runner.Calls.Count == 1, "the call");

        a.Cancel();
        Assert.False(_runner.LastToken.IsCancellationRequested);
        b.Cancel();
        Assert.True(_runner.LastToken.IsCancellationRequested);
        await AllDone(both);
        Assert.All(both, i => Assert.Equal(ItemStatus.Cancelled, i.Status));
        Assert.Equal([2], _runner.Sizes); // not isolated
        Assert.False(gate.Task.IsCompleted);
    }

    [Fact]
    public async Task An_item_cancelled_during_its_call_still_gets_its_result()
    {
        var dispatcher = Dispatcher();
        using var a = new CancellationTokenSource();
        var gate = _runner.HoldNextCall();
        TestItem[] items = [Item(1, a.Token), Item(2)];
        dispatcher.Enqueue(items);
        await Until(() => _runner.Calls.Count == 1, "the call");
        a.Cancel();
        Assert.False(items[0].IsDone);
        gate.SetResult();
        await AllDone(items);
        Assert.Equal((ItemStatus.Ok, "10"), items[0].Outcome);
        Assert.Equal((ItemStatus.Ok, "20"), items[1].Outcome);
    }

    [Fact]
    public async Task An_item_whose_deadline_passes_in_the_queue_times_out_without_running()
    {
        var dispatcher = Dispatcher();
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");

        var now = _runner.Clock.GetTimestamp();
        var expiring = Item(2, deadline: now + Ms(5).Ticks * _runner.Clock.TimestampFrequency / TimeSpan.TicksPerSecond);
        var kept = Item(3);
        dispatcher.Enqueue([expiring, kept]);
        _runner.Clock.Advance(Ms(4));
        Assert.False(expiring.IsDone);
        _runner.Clock.Advance(Ms(2));
        await expiring.Done.WaitAsync(Patience);
        Assert.Equal((ItemStatus.TimedOut, "runner 'clock' method 'run' did not start the request before its deadline"), expiring.Outcome);
        Assert.Equal(1, dispatcher.Statistics.TimedOut);
        Assert.False(kept.IsDone);

        gate.SetResult();
        await AllDone([first, kept]);
        Assert.Equal([1, 1], _runner.Sizes);

        // Past its deadline when enqueued: at once.
        var late = Item(4, deadline: _runner.Clock.GetTimestamp());
        dispatcher.Enqueue([late]);
        Assert.Equal(ItemStatus.TimedOut, late.Status);
    }

    [Fact]
    public async Task Statistics_count_batches_items_and_waits()
    {
        var dispatcher = Dispatcher();
        _runner.Cost = _ => Ms(2);
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");
        var ten = Items(10);
        dispatcher.Enqueue(ten);
        _runner.Clock.Advance(Ms(3));
        gate.SetResult();
        await AllDone([first, .. ten]);

        var statistics = dispatcher.Statistics;
        Assert.Equal(2, statistics.Batches);
        Assert.Equal(11, statistics.Items);
        Assert.Equal(5.5, statistics.MeanBatchSize);
        Assert.Equal(0, statistics.Queued);
        Assert.Equal(2, statistics.BatchSize.Count);
        Assert.Equal(1, statistics.BatchSize.Counts[0]);
        Assert.Equal(1, statistics.BatchSize.Counts[HistogramBuckets.BatchSize.IndexOf(10)]);
        // The ten waited 3 ms held at the gate plus the first call's 2 ms.
        Assert.Equal(11, statistics.QueueWaitMs.Count);
        Assert.Equal(50, statistics.QueueWaitMs.Sum, 1e-9);
        Assert.InRange(statistics.P99QueueWaitMs, 4.525, 6.4);
        Assert.Equal(HistogramBuckets.QueueWaitMs, statistics.QueueWaitMs.Buckets);
    }

    [Fact]
    public async Task Dispose_drains_what_is_queued_and_refuses_more()
    {
        var dispatcher = Dispatcher();
        var gate = _runner.HoldNextCall();
        var first = Item(1);
        dispatcher.Enqueue([first]);
        await Until(() => _runner.Calls.Count == 1, "the first call");
        var queued = Items(5);
        dispatcher.Enqueue(queued);

        var drain = dispatcher.DisposeAsync().AsTask();
        var late = Item(9);
        dispatcher.Enqueue([late]);
        Assert.Equal((ItemStatus.Stopping, "runner 'clock' is stopping and did not run the request; retry"), late.Outcome);
        Assert.False(drain.IsCompleted);

        gate.SetResult();
        await drain.WaitAsync(Patience);
        Assert.All(queued.Append(first), i => Assert.Equal(ItemStatus.Ok, i.Status));
        Assert.Equal(BatchDispatcher.LoopState.Stopped, dispatcher.State);
        Assert.Equal(1, dispatcher.Statistics.Stopped);
    }

    [Fact]
    public async Task An_abandoned_drain_stops_the_queued_items_and_cancels_the_running_call()
    {
        var dispatcher = Dispatcher();
        _runner.HoldNextCall();
        var running = Item(1);
        dispatcher.Enqueue([running]);
        await Until(() => _runner.Calls.Count == 1, "the first call");
        var queued = Items(3);
        dispatcher.Enqueue(queued);

        using var abandon = new CancellationTokenSource();
        var drain = dispatcher.DrainAsync(abandon.Token);
        abandon.Cancel();
        Assert.All(queued, i => Assert.Equal(ItemStatus.Stopping, i.Status));
        await drain.WaitAsync(Patience);
        Assert.Equal(ItemStatus.Stopping, running.Status);
        Assert.Equal([1], _runner.Sizes);
        Assert.True(_runner.LastToken.IsCancellationRequested);
        Assert.Equal(3, dispatcher.Statistics.Stopped); // the running item ran: it ended Stopping, but it is not counted as dropped
    }

    [Fact]
    public async Task On_the_system_clock_concurrent_callers_are_all_answered_in_batches()
    {
        var runner = new BatchRunner();
        var method = MethodBinder.BindAll(runner, "batcher")["square"];
        await using var dispatcher = new BatchDispatcher(method, BatchingOptions.For(method));
        var items = Enumerable.Range(0, 400).Select(i => new TestItem(TimeProvider.System, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = t; i < items.Length; i += 4)
                dispatcher.Enqueue([items[i]]);
        })));
        await AllDone(items);
        for (var i = 0; i < items.Length; i++)
            Assert.Equal((ItemStatus.Ok, (i * i).ToString(System.Globalization.CultureInfo.InvariantCulture)), items[i].Outcome);
        var statistics = dispatcher.Statistics;
        Assert.Equal(400, statistics.Items);
        Assert.True(statistics.Batches <= 400);
        Assert.All(runner.Calls, size => Assert.InRange(size, 1, 64));
    }
}
