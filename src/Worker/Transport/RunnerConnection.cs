using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

/// <summary>
/// One persistent connection from an API worker to a runner worker, carrying many calls at once:
/// each call gets an id, its reply comes back with it, in whatever order calls finish.
/// </summary>
/// <remarks>
/// A reply completes its caller's task on this connection's read loop (no thread hop): the caller's
/// continuation — writing the HTTP response — runs there until its first real wait. Deadlines are
/// enforced by <see cref="RunnerClient"/>'s sweep (<see cref="ExpireOverdue"/>), not a timer per call.
/// </remarks>
internal sealed class RunnerConnection
{
    private readonly Socket _socket;
    private readonly SocketFrameSender _sender;
    private readonly SocketFrameReader _reader;
    private readonly long _maxReply;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, PendingCall> _calls = [];
    private readonly Dictionary<uint, TaskCompletionSource<bool>> _pings = [];
    private uint _lastId;
    private string? _closedReason;
    private volatile bool _goingAway;
    private bool _retired;

    private const string RetiredReason = "the connection was retired (the client keeps fewer connections to the runner)";

    private RunnerConnection(Socket socket, long maxReply)
    {
        _socket = socket;
        _maxReply = maxReply;
        _sender = new SocketFrameSender(socket);
        _reader = new SocketFrameReader(socket);
        _sender.Failed += ex => Close($"sending to the runner failed: {ex.Message}");
    }

    /// <summary>The runner worker that accepted this connection (from its welcome).</summary>
    public string Worker { get; private set; } = "";

    /// <summary>Open, and neither the runner said it is going away nor the client retired it: new calls may use it.</summary>
    public bool IsUsable => !_goingAway && Volatile.Read(ref _closedReason) is null;

    public bool IsClosed => Volatile.Read(ref _closedReason) is not null;

    /// <summary>Connects, says hello (with the secret on Tcp) and waits for the welcome.</summary>
    public static async Task<RunnerConnection> ConnectAsync(RunnerEndpointConfig endpoint, string? secret, long maxReply, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Socket socket;
        EndPoint target;
        if (endpoint.TransportKind == RunnerTransport.Uds)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            target = new UnixDomainSocketEndPoint(endpoint.Address!);
        }
        else
        {
            var ip = IPEndPoint.Parse(endpoint.Address!);
            socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            target = ip;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        RunnerConnection? connection = null;
        try
        {
            await socket.ConnectAsync(target, deadline.Token).ConfigureAwait(false);
            connection = new RunnerConnection(socket, maxReply);
            var writer = connection._sender.Enter();
            try
            {
                RunnerFrames.WriteHello(writer, endpoint.TransportKind == RunnerTransport.Tcp ? secret ?? "" : null);
            }
            finally
            {
                connection._sender.Exit();
            }
            await connection.ReadWelcomeAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or RunnerConnectException or ProtocolViolationException)
        {
            socket.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                throw;
            throw ex switch
            {
                RunnerConnectException refused => refused,
                OperationCanceledException => new RunnerConnectException($"no welcome from {endpoint.Address} within {timeout.TotalSeconds:0.#} s"),
                SocketException socketError => new RunnerConnectException($"cannot connect to {endpoint.Address}: {socketError.SocketErrorCode}", ex),
                _ => new RunnerConnectException($"cannot connect to {endpoint.Address}: {ex.Message}", ex),
            };
        }
        _ = connection.ReadLoopAsync();
        return connection;
    }

    private async Task ReadWelcomeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_reader.TryTake(64 * 1024, out var type, out _, out var payload))
            {
                if (type == FrameType.Error)
                    throw new RunnerConnectException("the runner refused the connection: " + Encoding.UTF8.GetString(payload.Span));
                if (type != FrameType.Welcome || payload.Length < 6)
                    throw new RunnerConnectException($"the runner answered the hello with frame type {(byte)type}");
                Worker = Encoding.UTF8.GetString(payload.Span[6..]);
                _reader.Release();
                return;
            }
            if (!await _reader.ReceiveAsync(cancellationToken).ConfigureAwait(false))
                throw new RunnerConnectException("the runner closed the connection before its welcome");
        }
    }

    /// <summary>
    /// Sends one call; the task completes with the runner's reply, or with Unreachable / TimedOut / Cancelled.
    /// Null when the connection was ending — the client retired it, or the runner said GoAway — and it
    /// closed before the call got on it: the call was not sent, and the caller sends it on another
    /// connection (neither a shrink nor a runner's drain may fail a call).
    /// </summary>
    public Task<RunnerReply>? TryCallAsync(in CallHeader header, ReadOnlyMemory<byte> input, long deadline, CancellationToken cancellationToken)
    {
        var call = new PendingCall(this, deadline);
        lock (_lock)
        {
            if (_closedReason is { } reason)
                return Ending ? null : Task.FromResult(Lost(reason));
            call.Id = NextId();
            _calls[call.Id] = call;
        }
        var writer = _sender.Enter();
        try
        {
            RunnerFrames.WriteCall(writer, call.Id, header, input.Span);
        }
        finally
        {
            _sender.Exit();
        }
        if (cancellationToken.CanBeCanceled)
            call.Registration = cancellationToken.UnsafeRegister(static s => ((PendingCall)s!).CancelByCaller(), call);
        return call.Task;
    }

    /// <summary>Asks the runner whether it is serving; false when it is draining.</summary>
    public async Task<bool> PingAsync(TimeSpan timeout)
    {
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint id;
        lock (_lock)
        {
            if (_closedReason is { } reason)
                throw new RunnerConnectException(reason);
            id = NextId();
            _pings[id] = answer;
        }
        var writer = _sender.Enter();
        try
        {
            RunnerFrames.WriteEmpty(writer, FrameType.Ping, id);
        }
        finally
        {
            _sender.Exit();
        }
        try
        {
            return await answer.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        finally
        {
            bool idle;
            lock (_lock)
            {
                _pings.Remove(id);
                idle = EndingAndIdle;
            }
            if (idle)
                Close(EndingReason);
        }
    }

    /// <summary>
    /// The client no longer needs this connection (the runner has fewer workers now): like a GoAway from a
    /// draining runner, no new calls go on it, and the calls in flight are answered; it closes after the last.
    /// </summary>
    public void Retire()
    {
        bool idle;
        lock (_lock)
        {
            if (_retired)
                return;
            // Set even when already lost: a call that picked it before the shrink then goes elsewhere instead of failing.
            _retired = true;
            _goingAway = true;
            idle = _closedReason is null && EndingAndIdle;
        }
        if (idle)
            Close(EndingReason);
    }

    /// <summary>Retired, and nothing is waiting for an answer on it any more: time to close. Caller holds <c>_lock</c>.</summary>
    private bool EndingAndIdle => Ending && _calls.Count == 0 && _pings.Count == 0;

    /// <summary>
    /// Takes no new calls and closes once nothing waits on it: the client retired it, or the runner worker
    /// said GoAway. The client closes it, not the runner, so a call that crossed the GoAway is answered
    /// (Stopping, not run: sent again elsewhere) instead of being lost with the connection.
    /// </summary>
    private bool Ending => _retired || _goingAway;

    private string EndingReason => _retired ? RetiredReason : "the runner worker is draining (GoAway)";

    private uint NextId()
    {
        var id = ++_lastId;
        return id == 0 ? ++_lastId : id;
    }

    /// <summary>Answers calls whose deadline passed with TimedOut, and tells the runner to cancel them.</summary>
    public void ExpireOverdue(long now)
    {
        List<PendingCall>? overdue = null;
        bool idle;
        lock (_lock)
        {
            foreach (var call in _calls.Values)
            {
                if (call.Deadline <= now)
                    (overdue ??= []).Add(call);
            }
            if (overdue is null)
                return;
            foreach (var call in overdue)
                _calls.Remove(call.Id);
            idle = EndingAndIdle;
        }
        foreach (var call in overdue)
        {
            SendCancel(call.Id);
            call.Finish(RunnerReply.Error(ItemStatus.TimedOut, "the runner did not answer in time"));
        }
        if (idle)
            Close(EndingReason);
    }

    private void Cancel(PendingCall call)
    {
        bool idle;
        lock (_lock)
        {
            if (!_calls.Remove(call.Id))
                return;
            idle = EndingAndIdle;
        }
        SendCancel(call.Id);
        call.Finish(RunnerReply.Error(ItemStatus.Cancelled, "the call was cancelled"));
        if (idle)
            Close(EndingReason);
    }

    private void SendCancel(uint id)
    {
        if (Volatile.Read(ref _closedReason) is not null)
            return;
        var writer = _sender.Enter();
        try
        {
            RunnerFrames.WriteEmpty(writer, FrameType.Cancel, id);
        }
        finally
        {
            _sender.Exit();
        }
    }

    private async Task ReadLoopAsync()
    {
        var reason = "the runner closed the connection";
        try
        {
            while (true)
            {
                while (_reader.TryTake(_maxReply, out var type, out var id, out var payload))
                {
                    if (type == FrameType.Error)
                    {
                        reason = "the runner closed the connection: " + Encoding.UTF8.GetString(payload.Span);
                        return;
                    }
                    Dispatch(type, id, payload);
                }
                _reader.Release();
                if (!await _reader.ReceiveAsync().ConfigureAwait(false))
                    return;
            }
        }
        catch (ProtocolViolationException ex)
        {
            reason = ex.Message;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            reason = "the connection to the runner was lost: " + ex.Message;
        }
        finally
        {
            Close(reason);
        }
    }

    private void Dispatch(FrameType type, uint id, ReadOnlyMemory<byte> payload)
    {
        switch (type)
        {
            case FrameType.Reply:
            {
                // Read before the call leaves the table: a malformed reply fails the connection, which answers it.
                var reply = ReadReply(payload.Span);
                PendingCall? call;
                bool idle;
                lock (_lock)
                {
                    _calls.Remove(id, out call);
                    // A worker that answers Stopping is draining, whether or not its GoAway was read yet: the
                    // caller's retry must go on a new connection (to a live worker), not back on this one.
                    if (reply.Status == ItemStatus.Stopping)
                        _goingAway = true;
                    idle = _closedReason is null && EndingAndIdle;
                }
                if (call is null)
                {
                    reply.Release(); // cancelled or timed out meanwhile
                    if (idle)
                        Close(EndingReason);
                    return;
                }
                // The runner cancels a call when its timeout passes, maybe before this side's sweep: a timeout all the same.
                if (reply.Status == ItemStatus.Cancelled && Environment.TickCount64 >= call.Deadline)
                    reply = RunnerReply.Error(ItemStatus.TimedOut, "the runner did not answer in time");
                call.Finish(reply);
                if (idle)
                    Close(EndingReason);
                return;
            }
            case FrameType.Pong:
            {
                TaskCompletionSource<bool>? ping;
                lock (_lock)
                    _pings.Remove(id, out ping);
                ping?.TrySetResult(payload.Length > 0 && payload.Span[0] == 1);
                return;
            }
            case FrameType.GoAway:
            {
                bool idle;
                lock (_lock)
                {
                    _goingAway = true;
                    idle = _closedReason is null && EndingAndIdle;
                }
                if (idle)
                    Close(EndingReason);
                return;
            }
            default:
                throw new ProtocolViolationException($"unexpected frame type {(byte)type} from the runner");
        }
    }

    private static RunnerReply ReadReply(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
            throw new ProtocolViolationException("an empty reply frame");
        var status = (ItemStatus)payload[0];
        if (status == ItemStatus.Ok)
        {
            var length = payload.Length - 1;
            if (length == 0)
                return RunnerReply.Ok(null, 0);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            payload[1..].CopyTo(buffer);
            return RunnerReply.Ok(buffer, length);
        }
        if (payload.Length < 5)
            throw new ProtocolViolationException("a reply frame is too short");
        var retryAfter = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]));
        return RunnerReply.Error(status, Encoding.UTF8.GetString(payload[5..]), retryAfter);
    }

    private static RunnerReply Lost(string reason) =>
        RunnerReply.Error(ItemStatus.Unreachable, reason, TimeSpan.FromSeconds(1));

    /// <summary>Closes the connection: calls still waiting are answered Unreachable with <paramref name="reason"/>.</summary>
    public void Close(string reason)
    {
        PendingCall[] calls;
        TaskCompletionSource<bool>[] pings;
        lock (_lock)
        {
            if (_closedReason is not null)
                return;
            Volatile.Write(ref _closedReason, reason);
            calls = [.. _calls.Values];
            pings = [.. _pings.Values];
            _calls.Clear();
            _pings.Clear();
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
        foreach (var ping in pings)
            ping.TrySetException(new RunnerConnectException(reason));
        foreach (var call in calls)
            call.Finish(Lost(reason));
    }

    /// <summary>A call waiting for its reply. Its continuation runs where the reply is read (see the remarks above).</summary>
    private sealed class PendingCall(RunnerConnection owner, long deadline) : TaskCompletionSource<RunnerReply>
    {
        public uint Id;
        public readonly long Deadline = deadline;
        public CancellationTokenRegistration Registration;

        public void CancelByCaller() => owner.Cancel(this);

        public void Finish(in RunnerReply reply)
        {
            Registration.Unregister();
            if (!TrySetResult(reply))
                reply.Release();
        }
    }
}
