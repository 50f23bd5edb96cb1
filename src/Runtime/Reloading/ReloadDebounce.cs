namespace Serving.Runtime.Reloading;

/// <summary>
/// Turns a burst of file events into one reload: the batch is due once no change has come for
/// <c>quiet</c>, or <c>maxWait</c> after its first change, whichever is sooner, so a steady stream
/// of changes (a long build) still reloads. Pure: the caller passes the time and polls
/// <see cref="DueAt"/>; nothing here reads a clock or starts a timer. Thread-safe, since the
/// watcher's events arrive on thread-pool threads.
/// </summary>
internal sealed class ReloadDebounce
{
    /// <summary>Long enough for an editor's save (write a temporary file, rename, touch) to settle.</summary>
    public static readonly TimeSpan DefaultQuiet = TimeSpan.FromMilliseconds(300);

    /// <summary>The longest a change waits for a stream of changes to stop.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly TimeSpan _quiet;
    private readonly TimeSpan _maxWait;
    private readonly List<string> _paths = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private DateTime _firstChange;
    private DateTime _lastChange;

    public ReloadDebounce()
        : this(DefaultQuiet, DefaultMaxWait)
    {
    }

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quiet"/> is negative or
    /// <paramref name="maxWait"/> is shorter than it.</exception>
    public ReloadDebounce(TimeSpan quiet, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quiet, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, quiet);
        _quiet = quiet;
        _maxWait = maxWait;
    }

    public TimeSpan Quiet => _quiet;

    public TimeSpan MaxWait => _maxWait;

    /// <summary>Records a change to <paramref name="path"/> at <paramref name="now"/>; a path already pending is kept once, where it first came.</summary>
    public void Add(string path, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(path);
        lock (_gate)
        {
            if (_paths.Count == 0)
            {
                _firstChange = now;
                _lastChange = now;
            }
            // Two threads can read the clock in one order and take the lock in the other: a late
            // arrival must not pull the quiet period back.
            else if (now > _lastChange)
            {
                _lastChange = now;
            }
            if (_seen.Add(path)) _paths.Add(path);
        }
    }

    /// <summary>Null when nothing is pending; otherwise when the pending batch is due:
    /// min(last change + quiet, first change + maxWait).</summary>
    public DateTime? DueAt
    {
        get
        {
            lock (_gate) return DueAtLocked();
        }
    }

    /// <summary>The pending paths in first-seen order, clearing them, when the batch is due at
    /// <paramref name="now"/>; otherwise null.</summary>
    public IReadOnlyList<string>? TakeIfDue(DateTime now)
    {
        lock (_gate)
        {
            if (DueAtLocked() is not { } due || now < due) return null;
            var batch = _paths.ToArray();
            _paths.Clear();
            _seen.Clear();
            return batch;
        }
    }

    private DateTime? DueAtLocked()
    {
        if (_paths.Count == 0) return null;
        var afterQuiet = _lastChange + _quiet;
        var afterMaxWait = _firstChange + _maxWait;
        return afterQuiet < afterMaxWait ? afterQuiet : afterMaxWait;
    }
}
