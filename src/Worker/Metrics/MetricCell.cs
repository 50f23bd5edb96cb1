namespace Serving.Worker.Metrics;

/// <summary>
/// One 64-bit value in a mapped segment, changed atomically: a counter, a gauge, a bucket, a sum. A cell
/// that points nowhere (a full segment, or metrics off) ignores every change.
/// </summary>
internal readonly unsafe struct MetricCell
{
    private readonly long* _value;

    public MetricCell(long* value) => _value = value;

    public static MetricCell None => default;

    public void Add(long delta)
    {
        if (_value != null)
            Interlocked.Add(ref *_value, delta);
    }

    public void Increment()
    {
        if (_value != null)
            Interlocked.Increment(ref *_value);
    }

    public void Decrement()
    {
        if (_value != null)
            Interlocked.Decrement(ref *_value);
    }

    /// <summary>The value as this process sees it now (tests).</summary>
    public long Read() => _value == null ? 0 : Volatile.Read(ref *_value);
}
