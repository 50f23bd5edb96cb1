using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

// What the supervisor says over the lifeline, applied: the runner's worker count (the connection slots) and
// whether it is down (calls answered at once, connections closed).
internal sealed partial class RunnerClient
{
    /// <summary>The connections for the runner's worker count: a count past the cap gets the cap (clamped first, so the product cannot overflow).</summary>
    private int SlotsFor(int workers) => _tuning.ConnectionsTo(Math.Min(workers, _tuning.MaxConnectionsPerRunner));

    private static Slot[] NewSlots(Slot[] keep, int count)
    {
        var slots = new Slot[count];
        keep.AsSpan(0, Math.Min(keep.Length, count)).CopyTo(slots);
        for (var i = keep.Length; i < count; i++)
            slots[i] = new Slot();
        return slots;
    }

    private void OnWorkersChanged(string runner)
    {
        if (string.Equals(runner, Name, StringComparison.Ordinal))
            Resize();
    }

    /// <summary>
    /// Keeps the connection slots for the runner's worker count as the supervisor last said it. Growing adds
    /// empty slots (connected on first use); shrinking drops the last ones and retires their connections, so no
    /// call in flight fails for it.
    /// </summary>
    private void Resize()
    {
        RunnerConnection[] retired;
        lock (_lock)
        {
            // The count is read under the lock, like the runner's availability (OnAvailabilityChanged says why).
            if (_availability.Workers(Name) is not { } workers)
                return;
            var count = SlotsFor(workers);
            var slots = _slots;
            if (_disposed || count == slots.Length)
                return;
            var dropped = slots.AsSpan(Math.Min(count, slots.Length));
            var connections = new List<RunnerConnection>(dropped.Length);
            foreach (var slot in dropped)
            {
                slot.Dropped = true;
                if (slot.Connection is { } connection)
                    connections.Add(connection);
                slot.Connection = null;
            }
            retired = [.. connections];
            _slots = NewSlots(slots, count);
            if (retired.Length > 0)
                _retiring = [.. _retiring.Where(c => !c.IsClosed), .. retired];
        }
        foreach (var connection in retired)
            connection.Retire();
    }

    private void OnAvailabilityChanged(string runner)
    {
        if (!string.Equals(runner, Name, StringComparison.Ordinal))
            return;
        // The word is read and applied under one lock: the constructor's call and the lifeline's run at once at
        // a worker's start (it hears runner-down, then runner-up, while its clients are made), and a "down" read
        // before an "up" but applied after it would leave the runner down for good, every call answered 503.
        (RunnerConnection?[] Open, CancellationTokenSource Attempts)? taken = null;
        Unavailability? down;
        lock (_lock)
        {
            down = _availability.Down(Name);
            if (down is not null)
                taken = MarkUnavailable(down);
            else if (_unavailable is { } current && current.Problem == Problems.RunnerUnavailable)
                _unavailable = null;
        }
        if (taken is { } t)
            CloseTaken(t.Open, t.Attempts, down!);
        AvailabilityChanged?.Invoke();
    }

    /// <summary>
    /// Marks the runner unavailable and fails every call in flight (closing the connections): a call
    /// queued on a socket nobody accepts on would otherwise wait for its deadline. New connections are
    /// opened when calls are allowed again.
    /// </summary>
    private void Abort(Unavailability why)
    {
        (RunnerConnection?[] Open, CancellationTokenSource Attempts)? taken;
        lock (_lock)
            taken = MarkUnavailable(why);
        if (taken is { } t)
            CloseTaken(t.Open, t.Attempts, why);
    }

    /// <summary>
    /// Under <c>_lock</c>: sets <see cref="Unavailable"/> and takes the connections and the attempts under way, for
    /// <see cref="CloseTaken"/> outside the lock; null when the drain's end was already declared (it is final).
    /// </summary>
    private (RunnerConnection?[] Open, CancellationTokenSource Attempts)? MarkUnavailable(Unavailability why)
    {
        if (_unavailable == Unavailability.HostStopping)
            return null;
        _unavailable = why;
        var slots = _slots;
        RunnerConnection?[] open = [.. slots.Select(s => s.Connection), .. _retiring];
        foreach (var slot in slots)
            slot.Connection = null;
        _retiring = [];
        var attempts = _attempts;
        _attempts = new CancellationTokenSource();
        return (open, attempts);
    }

    private static void CloseTaken(RunnerConnection?[] open, CancellationTokenSource attempts, Unavailability why)
    {
        attempts.Cancel();
        attempts.Dispose();
        foreach (var connection in open)
            connection?.Close(why.Detail);
    }
}
