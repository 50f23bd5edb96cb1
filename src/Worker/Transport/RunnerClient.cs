using Serving.Worker.Batching;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

/// <summary>
/// The API worker's client of one runner: a few persistent connections (<see cref="RunnerConnection"/>),
/// opened on first use and again after one is lost or the runner worker behind it drains, used
/// round-robin. The kernel hands each new connection on the runner's shared socket to one of its
/// workers, so a runner with several workers gets several connections and the load spreads over them.
/// </summary>
internal sealed class RunnerClient : IDisposable
{
    private readonly TimeSpan _connectTimeout;
    private readonly string? _secret;
    private readonly long _maxReply;
    private readonly Slot[] _slots;
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
        WorkerTuning tuning, Lifeline? lifeline = null)
    {
        Name = name;
        Endpoint = endpoint;
        Timeout = timeout;
        _secret = secret;
        _maxReply = maxReply;
        _connectTimeout = TimeSpan.FromMilliseconds(tuning.RunnerConnectTimeoutMs);
        _slots = new Slot[tuning.ConnectionsTo(workers)];
        for (var i = 0; i < _slots.Length; i++)
            _slots[i] = new Slot();
        _availability = lifeline?.Runners ?? new RunnerAvailability();
        _availability.Changed += OnAvailabilityChanged;
        OnAvailabilityChanged(name);
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

    /// <summary>
    /// One call, waited for at most the header's timeout (requestTimeoutSeconds, or a gRPC client's
    /// earlier deadline). Never throws for the runner's sake: a runner that cannot be reached is a
    /// reply (Unreachable).
    /// </summary>
    public Task<RunnerReply> CallAsync(CallHeader header, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        var deadline = header.TimeoutMs == 0 ? long.MaxValue : Environment.TickCount64 + header.TimeoutMs;
        var slot = _slots.Length == 1 ? _slots[0] : _slots[(uint)Interlocked.Increment(ref _next) % (uint)_slots.Length];
        if (slot.Connection is { IsUsable: true } connection)
            return connection.CallAsync(header, input, deadline, cancellationToken);
        return ConnectThenCallAsync(slot, header, input, deadline, cancellationToken);
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
        return await connection.CallAsync(header, input, deadline, cancellationToken).ConfigureAwait(false);
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
            slot.Connection = connection;
        }
        return connection;
    }

    /// <summary>Asks one runner worker whether it serves; (false, why) when none can be reached in time.</summary>
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

    private void OnAvailabilityChanged(string runner)
    {
        if (!string.Equals(runner, Name, StringComparison.Ordinal))
            return;
        if (_availability.Down(Name) is { } down)
            Abort(down);
        else if (_unavailable is { } current && current.Problem == Problems.RunnerUnavailable)
            _unavailable = null;
        AvailabilityChanged?.Invoke();
    }

    /// <summary>
    /// Marks the runner unavailable and fails every call in flight (closing the connections): a call
    /// queued on a socket nobody accepts on would otherwise wait for its deadline. New connections are
    /// opened when calls are allowed again.
    /// </summary>
    private void Abort(Unavailability why)
    {
        RunnerConnection?[] open;
        CancellationTokenSource attempts;
        lock (_lock)
        {
            if (_unavailable == Unavailability.HostStopping)
                return; // the drain's end is final
            _unavailable = why;
            open = Array.ConvertAll(_slots, s => s.Connection);
            foreach (var slot in _slots)
                slot.Connection = null;
            attempts = _attempts;
            _attempts = new CancellationTokenSource();
        }
        attempts.Cancel();
        attempts.Dispose();
        foreach (var connection in open)
            connection?.Close(why.Detail);
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var slot in _slots)
            slot.Connection?.ExpireOverdue(now);
    }

    public void Dispose()
    {
        _availability.Changed -= OnAvailabilityChanged;
        _sweep.Dispose();
        RunnerConnection?[] open;
        lock (_lock)
        {
            _disposed = true;
            open = Array.ConvertAll(_slots, s => s.Connection);
        }
        foreach (var connection in open)
            connection?.Close("the API worker is stopping");
    }

    private sealed class Slot
    {
        public volatile RunnerConnection? Connection;
        public Task<RunnerConnection>? Connecting;
    }
}
