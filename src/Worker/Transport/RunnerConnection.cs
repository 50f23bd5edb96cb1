using System.Net.Sockets;
using Serving.Worker.Batching;

namespace Serving.Worker.Transport;

/// <summary>
/// One persistent connection from an API worker to a runner worker, carrying many calls at once:
/// each call gets an id, its reply comes back with it, in whatever order calls finish.
/// </summary>
/// <remarks>
/// A reply completes its caller's task on this connection's read loop (no thread hop): the caller's
/// continuation — writing the HTTP response — runs there until its first real wait. Deadlines are
/// enforced by <see cref="RunnerClient"/>'s sweep (<see cref="ExpireOverdue"/>), not a timer per call.
/// Connecting is in <c>RunnerConnection.Connecting.cs</c>, the read loop in <c>RunnerConnection.Replies.cs</c>.
/// </remarks>
internal sealed partial class RunnerConnection
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
