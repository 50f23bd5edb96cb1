using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

using Serving.Worker.Metrics;

namespace Serving.Worker.Transport;

/// <summary>
/// The API worker's client of one runner: a few persistent connections (<see cref="RunnerConnection"/>),
/// opened on first use and again after one is lost or the runner worker behind it drains, used
/// round-robin. The kernel hands each new connection on the runner's shared socket to one of its
/// workers, so a runner with several workers gets several connections and the load spreads over them.
/// When the supervisor scales the runner (lifeline <c>runner-workers</c>), the connections follow.
/// </summary>
/// <remarks>
/// <c>_slots</c> is replaced as a whole, never changed in place: readers take the field once and index
/// that array. A shrink retires the surplus slots' connections (<see cref="RunnerConnection.Retire"/>):
/// they take no new calls and close once their calls in flight are answered. What the supervisor says over the
/// lifeline (the runner's worker count, whether it is down) is applied in <c>RunnerClient.Lifeline.cs</c>.
/// </remarks>
internal sealed partial class RunnerClient : IDisposable
{
    private readonly TimeSpan _connectTimeout;
    private readonly HistogramCells? _callDuration;
    private readonly string? _secret;
    private readonly long _maxReply;
    private readonly WorkerTuning _tuning;
    private volatile Slot[] _slots;
    // Connections of slots dropped by a shrink, until they close: the sweep still expires their calls'
    // deadlines, and Abort / Dispose still close them. Replaced as a whole under _lock, like _slots.
    private volatile RunnerConnection[] _retiring = [];
    private readonly RunnerAvailability _availability;
    private readonly Timer _sweep;
    private readonly Lock _lock = new();
    private volatile Unavailability? _unavailable;
    private bool _disposed;
    private int _next;
    // Cancelled by Abort: connection attempts under way (one waiting for a welcome on a socket nobody
    // accepts on would otherwise hold its calls until the connect timeout) end with it.
    private CancellationTokenSource _attempts = new();

    public RunnerClient(string name, RunnerEndpointConfig endpoint, int workers, string? secret, TimeSpan timeout, long maxReply,
        WorkerTuning tuning, Lifeline? lifeline = null, HistogramCells? callDuration = null)
    {
        _callDuration = callDuration;
        Name = name;
        Endpoint = endpoint;
        Timeout = timeout;
        _secret = secret;
        _maxReply = maxReply;
        _connectTimeout = TimeSpan.FromMilliseconds(tuning.RunnerConnectTimeoutMs);
        _tuning = tuning;
        _slots = NewSlots([], SlotsFor(workers));
        _availability = lifeline?.Runners ?? new RunnerAvailability();
        _availability.Changed += OnAvailabilityChanged;
        OnAvailabilityChanged(name);
        // The supervisor's word may have come before this client existed, and is newer than host.json's count.
        _availability.WorkersChanged += OnWorkersChanged;
        OnWorkersChanged(name);
        // Requests still running just before a drain ends are answered (503 / UNAVAILABLE) rather than reset.
        lifeline?.DrainExpired.Register(() => Abort(Unavailability.HostStopping));
        var sweep = TimeSpan.FromMilliseconds(tuning.DeadlineSweepMs);
        _sweep = new Timer(static s => ((RunnerClient)s!).Sweep(), this, sweep, sweep);
    }

    public string Name { get; }
    public RunnerEndpointConfig Endpoint { get; }
    public TimeSpan Timeout { get; }

    /// <summary>
    /// Why calls to this runner are answered at once instead of sent (the supervisor said none of its
    /// workers is alive, or the drain's time is up), else null. Read before a call, and after a call
    /// came back Unreachable: calls in flight when it was set were failed by it.
    /// </summary>
    public Unavailability? Unavailable => _unavailable;

    /// <summary>
    /// Why a call that came back Unreachable or Cancelled failed, when the reason is that the runner
    /// was declared down or the drain's time is up (those calls were failed on purpose); else null.
    /// </summary>
    public Unavailability? UnavailableBehind(in RunnerReply reply) =>
        reply.Status is ItemStatus.Unreachable or ItemStatus.Cancelled ? _unavailable : null;

    /// <summary>Raised when <see cref="Unavailable"/> may have changed.</summary>
    public event Action? AvailabilityChanged;

    /// <summary>How many connections this client keeps to the runner (each opened on first use).</summary>
    internal int ConnectionSlots => _slots.Length;

    /// <summary>
    /// One call, waited for at most the header's timeout (requestTimeoutSeconds, or a gRPC client's
    /// earlier deadline). Never throws for the runner's sake: a runner that cannot be reached is a
    /// reply (Unreachable).
    /// </summary>
    public Task<RunnerReply> CallAsync(CallHeader header, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        if (_callDuration is null)
            return CallWithStoppingRetriesAsync(header, input, cancellationToken);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var reply = CallWithStoppingRetriesAsync(header, input, cancellationToken);
        if (!reply.IsCompleted)
            return TimedAsync(reply, start);
        _callDuration.ObserveSince(start);
        return reply;
    }

    /// <summary>The call's time, retries included, in serving_runner_call_duration_seconds.</summary>
    private async Task<RunnerReply> TimedAsync(Task<RunnerReply> reply, long start)
    {
        try
        {
            return await reply.ConfigureAwait(false);
        }
        finally
        {
            _callDuration!.ObserveSince(start);
        }
    }

    private Task<RunnerReply> CallWithStoppingRetriesAsync(CallHeader header, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        var deadline = header.TimeoutMs == 0 ? long.MaxValue : Environment.TickCount64 + header.TimeoutMs;
        var reply = SendAsync(header, input, deadline, cancellationToken);
        if (reply.IsCompletedSuccessfully && reply.Result.Status != ItemStatus.Stopping)
            return reply;
        return SendAgainIfStoppingAsync(reply, header, input, deadline, cancellationToken);
    }

    /// <summary>
    /// The pauses before each new attempt of a call answered <see cref="ItemStatus.Stopping"/>: the first at
    /// once; later ones give a draining worker time to close its listener, so the kernel hands the next
    /// connection to a live worker. Their number is how often a call is sent again before the answer stands.
    /// </summary>
    private static readonly int[] StoppingRetryPausesMs = [0, 20, 100, 250];

    /// <summary>
    /// A runner worker that began to drain answers a call that crossed its GoAway <c>Stopping</c>, without
    /// running it: sending it again is safe, and it goes on a new connection (the one that answered takes no
    /// more calls), which the kernel hands to another worker — during a rolling restart, the successor already
    /// serving. So a restart or a scale-down fails no call; when every worker is stopping (the host stops),
    /// the answer after the retries stands. Never past the call's deadline, nor once the runner was declared
    /// down or the caller gave up.
    /// </summary>
    private async Task<RunnerReply> SendAgainIfStoppingAsync(Task<RunnerReply> first, CallHeader header, ReadOnlyMemory<byte> input, long deadline,
        CancellationToken cancellationToken)
    {
        var reply = await first.ConfigureAwait(false);
        foreach (var pauseMs in StoppingRetryPausesMs)
        {
            if (reply.Status != ItemStatus.Stopping || _unavailable is not null || cancellationToken.IsCancellationRequested
                || Environment.TickCount64 + pauseMs >= deadline)
                break;
            if (pauseMs > 0)
            {
                try
                {
                    await Task.Delay(pauseMs, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            reply = await SendAsync(header, input, deadline, cancellationToken).ConfigureAwait(false);
        }
        return reply;
    }

    private Task<RunnerReply> SendAsync(in CallHeader header, ReadOnlyMemory<byte> input, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var slots = _slots;
            var slot = slots.Length == 1 ? slots[0] : slots[(uint)Interlocked.Increment(ref _next) % (uint)slots.Length];
            if (slot.Connection is not { IsUsable: true } connection)
                return ConnectThenCallAsync(slot, header, input, deadline, cancellationToken);
            // Null only when a shrink retired the connection after it was picked and it closed: pick again, from the new slots.
            if (connection.TryCallAsync(header, input, deadline, cancellationToken) is { } reply)
                return reply;
        }
    }

    private async Task<RunnerReply> ConnectThenCallAsync(Slot slot, CallHeader header, ReadOnlyMemory<byte> input, long deadline, CancellationToken cancellationToken)
    {
        RunnerConnection connection;
        try
        {
            connection = await ConnectAsync(slot).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RunnerConnectException ex)
        {
            return RunnerReply.Error(ItemStatus.Unreachable, $"runner '{Name}' cannot be reached: {ex.Message}", TimeSpan.FromSeconds(1));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return RunnerReply.Error(ItemStatus.Cancelled, "the call was cancelled");
        }
        catch (OperationCanceledException)
        {
            return RunnerReply.Error(ItemStatus.Unreachable, $"runner '{Name}' cannot be reached: {_unavailable?.Detail ?? "the connection attempt was abandoned"}", TimeSpan.FromSeconds(1));
        }
        return await (connection.TryCallAsync(header, input, deadline, cancellationToken)
            ?? SendAsync(header, input, deadline, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The slot's connection, opening one when it has none that takes calls (one attempt at a time per slot).</summary>
    private Task<RunnerConnection> ConnectAsync(Slot slot)
    {
        lock (_lock)
        {
            if (_disposed)
                return Task.FromException<RunnerConnection>(new RunnerConnectException("the API worker is stopping"));
            if (slot.Connection is { IsUsable: true } open)
                return Task.FromResult(open);
            if (slot.Connecting is { IsCompleted: false } pending)
                return pending;
            var connecting = OpenAsync(slot, _attempts.Token);
            slot.Connecting = connecting;
            return connecting;
        }
    }

    private async Task<RunnerConnection> OpenAsync(Slot slot, CancellationToken abandoned)
    {
        var connection = await RunnerConnection.ConnectAsync(Endpoint, _secret, _maxReply, _connectTimeout, abandoned).ConfigureAwait(false);
        lock (_lock)
        {
            if (_disposed)
            {
                connection.Close("the API worker is stopping");
                throw new RunnerConnectException("the API worker is stopping");
            }
            if (!slot.Dropped)
            {
                slot.Connection = connection;
                return connection;
            }
        }
        // A shrink dropped the slot while this connection was being opened: nobody would use or close it.
        // The calls that waited for it go to the new slots instead (its TryCallAsync answers null).
        connection.Retire();
        return connection;
    }

    /// <summary>Asks one runner worker whether it serves; (false, why) when none can be reached in time.</summary>
    /// <remarks>Slot 0 is never dropped by a shrink, so it is the same slot whichever array is read.</remarks>
    public async Task<(bool Ready, string Status)> CheckAsync(TimeSpan timeout)
    {
        if (_unavailable is not null)
            return (false, "DOWN");
        try
        {
            var connection = await ConnectAsync(_slots[0]).WaitAsync(timeout).ConfigureAwait(false);
            var serving = await connection.PingAsync(timeout).ConfigureAwait(false);
            return serving ? (true, "SERVING") : (false, "NOT_SERVING");
        }
        catch (TimeoutException)
        {
            return (false, "TIMEOUT");
        }
        catch (RunnerConnectException)
        {
            return (false, "UNAVAILABLE");
        }
        catch (OperationCanceledException)
        {
            return (false, "DOWN");
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var slot in _slots)
            slot.Connection?.ExpireOverdue(now);
        var retiring = _retiring;
        var closed = false;
        foreach (var connection in retiring)
        {
            connection.ExpireOverdue(now);
            closed |= connection.IsClosed;
        }
        if (closed)
        {
            lock (_lock)
                _retiring = [.. _retiring.Where(c => !c.IsClosed)];
        }
    }

    public void Dispose()
    {
        _availability.Changed -= OnAvailabilityChanged;
        _availability.WorkersChanged -= OnWorkersChanged;
        _sweep.Dispose();
        RunnerConnection?[] open;
        lock (_lock)
        {
            _disposed = true;
            open = [.. _slots.Select(s => s.Connection), .. _retiring];
        }
        foreach (var connection in open)
            connection?.Close("the API worker is stopping");
    }

    private sealed class Slot
    {
        public volatile RunnerConnection? Connection;
        public Task<RunnerConnection>? Connecting;
        // Set (under _lock) when a shrink took the slot out of _slots: a connection opened for it after that is retired at once.
        public bool Dropped;
    }
}
