using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>The supervisor's event queue alone: order, one deliverer at a time, no recursion, a throwing event.</summary>
public class EventOutboxTests
{
    [Fact]
    public void Events_posted_from_many_threads_are_raised_once_each_in_the_order_each_thread_posted_them()
    {
        var outbox = new EventOutbox();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(int Thread, int N)>();
        var concurrent = 0;
        var maxConcurrent = 0;
        Parallel.For(0, 4, t =>
        {
            for (var n = 0; n < 500; n++)
            {
                var (thread, number) = (t, n);
                outbox.Post(() =>
                {
                    var now = Interlocked.Increment(ref concurrent);
                    InterlockedMax(ref maxConcurrent, now);
                    seen.Enqueue((thread, number));
                    Interlocked.Decrement(ref concurrent);
                });
                outbox.Deliver();
            }
        });
        outbox.Deliver();
        Assert.Equal(2000, seen.Count);
        Assert.Equal(1, maxConcurrent);
        foreach (var group in seen.GroupBy(e => e.Thread))
            Assert.Equal(Enumerable.Range(0, 500), group.Select(e => e.N));
    }

    [Fact]
    public void An_event_that_posts_does_not_recurse_and_one_that_throws_does_not_stop_the_rest()
    {
        var outbox = new EventOutbox();
        var order = new List<string>();
        outbox.Post(() =>
        {
            order.Add("a");
            outbox.Post(() => order.Add("c"));
            outbox.Deliver(); // inside a delivery: returns at once, "c" waits its turn
            order.Add("a-end");
        });
        outbox.Post(() => throw new InvalidOperationException("a subscriber's bug"));
        outbox.Post(() => order.Add("b"));
        outbox.Deliver();
        Assert.Equal(["a", "a-end", "b", "c"], order);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
