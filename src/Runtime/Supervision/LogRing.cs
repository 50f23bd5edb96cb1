namespace Serving.Runtime.Supervision;

/// <summary>
/// The host's recent log lines, of every worker and the supervisor, in the order they arrived: a bounded ring
/// (<see cref="HostOptions.LogCapacity"/>), the oldest line dropped for each new one past it. Reading takes
/// nothing away (Get-ServingLog), unlike a job's output (Receive-Job). Each line gets the next sequence number,
/// so a reader that follows asks for what came after the last it saw. Thread-safe.
/// </summary>
public sealed class LogRing
{
    private readonly object _lock = new();
    private readonly WorkerLogEntry[] _entries;
    private long _next = 1; // the sequence number of the next line; the newest line's is _next - 1
    private int _count;

    public LogRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _entries = new WorkerLogEntry[capacity];
    }

    /// <summary>How many lines it keeps.</summary>
    public int Capacity => _entries.Length;

    /// <summary>The sequence number of the newest line; 0 before the first.</summary>
    public long LastSequence { get { lock (_lock) return _next - 1; } }

    internal void Add(WorkerLogEntry entry)
    {
        lock (_lock)
        {
            _entries[(int)(_next % _entries.Length)] = entry;
            _next++;
            if (_count < _entries.Length) _count++;
        }
    }

    /// <summary>
    /// The lines kept that arrived after sequence number <paramref name="after"/> (0: all of them), oldest first;
    /// <paramref name="last"/> is the newest one's number (or <paramref name="after"/> when none is newer).
    /// </summary>
    public WorkerLogEntry[] Read(long after, out long last)
    {
        lock (_lock)
        {
            last = _next - 1;
            var first = Math.Max(after + 1, _next - _count);
            if (first > last)
            {
                last = Math.Max(last, after);
                return Array.Empty<WorkerLogEntry>();
            }
            var result = new WorkerLogEntry[last - first + 1];
            for (var s = first; s <= last; s++)
                result[s - first] = _entries[(int)(s % _entries.Length)];
            return result;
        }
    }
}
