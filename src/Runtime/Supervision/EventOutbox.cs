namespace Serving.Runtime.Supervision;

/// <summary>
/// The supervisor's events, posted while it holds its lock and raised after it lets go: in the order
/// they were posted, by one thread at a time, never under the lock. A subscriber may call back into the
/// host (a snapshot, a stop), block on another thread that does, or set a PowerShell job's state —
/// none of it can deadlock on, or slow down, supervision.
/// </summary>
/// <remarks>
/// Whoever finds nobody delivering delivers everything queued, including what others post meanwhile;
/// a thread that finds someone delivering leaves its events to them. So an event may be raised after
/// the call that caused it returns, on another thread — but never out of order. Something that must
/// come after a set of events (the host's completion after its last state change) is posted behind
/// them. A handler that posts (by calling into the host) does not recurse: its events join the queue.
/// </remarks>
internal sealed class EventOutbox
{
    private readonly object _queueLock = new();
    private readonly Queue<Action> _queue = new();
    private bool _delivering;

    /// <summary>Queues <paramref name="raise"/>; it runs at the next <see cref="Deliver"/> (of this thread or another).</summary>
    public void Post(Action raise)
    {
        lock (_queueLock) _queue.Enqueue(raise);
    }

    /// <summary>
    /// Runs what is queued, in order, unless another thread is doing so (it will run these too). Call it
    /// without holding the supervisor's lock. An action that throws is the poster's to guard against
    /// (<see cref="ServingHost"/> wraps each subscriber); delivery goes on after it either way.
    /// </summary>
    public void Deliver()
    {
        lock (_queueLock)
        {
            if (_delivering) return;
            _delivering = true;
        }
        while (true)
        {
            Action next;
            lock (_queueLock)
            {
                if (_queue.Count == 0)
                {
                    _delivering = false;
                    return;
                }
                next = _queue.Dequeue();
            }
            try
            {
                next();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                System.Diagnostics.Trace.TraceError($"A supervisor event threw: {e}");
            }
        }
    }
}
