namespace Serving.Runtime.Tests;

/// <summary>
/// A clock that moves only when told (<see cref="Advance"/>, <see cref="SetUtcNow"/>). Its timers fire
/// synchronously on the thread that moves the time to or past their due time, earliest first, each
/// seeing <see cref="GetUtcNow"/> at its own due time; a periodic timer fires once per period passed.
/// A timer due at once (due time zero) fires on the next move, <c>Advance(TimeSpan.Zero)</c> included.
/// Thread-safe: one lock guards the time and the timers; callbacks run outside it, so they may use the
/// clock and its timers. A callback that throws stops the move there and the exception reaches the
/// caller; the timers due later stay scheduled.
/// </summary>
internal sealed class FakeClock : TimeProvider
{
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly object _lock = new();
    private readonly List<FakeTimer> _scheduled = new();
    private DateTimeOffset _now;
    // Where the moves asked for so far take the time: _now catches up as due timers fire.
    private DateTimeOffset _target;
    private long _sequence;

    public FakeClock() : this(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    public FakeClock(DateTimeOffset start) => _now = _target = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    // Timestamps (and GetElapsedTime) on the same fake time, in ticks.
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock) return _now.UtcTicks;
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>How many timers are waiting to fire (created or changed with a finite due time, not fired as one-shots, not disposed).</summary>
    public int ScheduledTimers
    {
        get { lock (_lock) return _scheduled.Count; }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the time forward by <paramref name="by"/>, firing every timer that comes due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_lock) _target += by;
        FireDue();
    }

    /// <summary>Moves the time forward to <paramref name="value"/> (never back), firing every timer that comes due on the way.</summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_lock)
        {
            if (value < _target) throw new ArgumentOutOfRangeException(nameof(value), value, "The fake clock does not go back.");
            _target = value;
        }
        FireDue();
    }

    private void FireDue()
    {
        while (true)
        {
            FakeTimer? next = null;
            lock (_lock)
            {
                foreach (var t in _scheduled)
                    if (t.Due <= _target && (next is null || t.Due < next.Due || (t.Due == next.Due && t.Order < next.Order)))
                        next = t;
                if (next is null)
                {
                    _now = _target;
                    return;
                }
                if (next.Due > _now) _now = next.Due;
                if (next.Period > TimeSpan.Zero)
                {
                    next.Due += next.Period;
                    next.Order = ++_sequence;
                }
                else
                {
                    _scheduled.Remove(next);
                }
            }
            next.Callback(next.State);
        }
    }

    private sealed class FakeTimer(FakeClock clock, TimerCallback callback, object? state) : ITimer
    {
        private bool _disposed;

        public TimerCallback Callback { get; } = callback;
        public object? State { get; } = state;
        // Due, Period and Order are guarded by the clock's lock.
        public DateTimeOffset Due { get; set; }
        public TimeSpan Period { get; set; }
        /// <summary>Breaks ties between timers due at the same time: the one scheduled first fires first.</summary>
        public long Order { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Validate(dueTime, nameof(dueTime));
            Validate(period, nameof(period));
            lock (clock._lock)
            {
                if (_disposed) return false;
                clock._scheduled.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                Due = clock._now + dueTime;
                // Zero or infinite: once. As System.Threading.Timer.
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                Order = ++clock._sequence;
                clock._scheduled.Add(this);
                return true;
            }
        }

        private static void Validate(TimeSpan value, string name)
        {
            if (value != Timeout.InfiniteTimeSpan && (value < TimeSpan.Zero || value > MaxTimeout))
                throw new ArgumentOutOfRangeException(name, value, "Must be Timeout.InfiniteTimeSpan or between 0 and 4294967294 ms.");
        }

        /// <summary>No more firings; a callback already under way on another thread may still finish (as with System.Threading.Timer).</summary>
        public void Dispose()
        {
            lock (clock._lock)
            {
                _disposed = true;
                clock._scheduled.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
