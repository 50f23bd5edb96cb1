namespace Serving.Worker.Batching;

/// <summary>
/// Items arriving per second, estimated from the most recent arrivals (each an enqueue of one or more
/// items at one instant). Not thread-safe: its owner guards it.
/// </summary>
/// <remarks>
/// The rate over the window is the items of every arrival but the oldest, divided by the time from the
/// oldest to now: measured up to now, it decays while nothing arrives instead of remembering the last
/// burst's pace. One arrival alone gives 0 (no rate is known): a single <c>instances</c> request of
/// many items is not taken for a stream of them.
/// </remarks>
internal sealed class ArrivalRate
{
    /// <summary>How many recent arrivals the estimate uses.</summary>
    public const int Window = 32;

    private readonly long[] _times = new long[Window];
    private readonly int[] _items = new int[Window];
    private int _next;
    private int _count;
    private long _itemsInWindow;

    public void Record(long timestamp, int items)
    {
        if (_count == Window)
            _itemsInWindow -= _items[_next];
        else
            _count++;
        _times[_next] = timestamp;
        _items[_next] = items;
        _itemsInWindow += items;
        _next = (_next + 1) % Window;
    }

    /// <summary>Items per second up to <paramref name="now"/> (a timestamp of the same clock); 0 when unknown.</summary>
    public double PerSecond(long now, long timestampFrequency)
    {
        if (_count < 2)
            return 0;
        var oldest = _count == Window ? _next : 0;
        var elapsed = now - _times[oldest];
        if (elapsed <= 0)
            return 0;
        return (_itemsInWindow - _items[oldest]) * (double)timestampFrequency / elapsed;
    }
}
