using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Serving.Worker.Batching;

namespace Serving.Worker.Transport;

// The read loop: replies, pongs, cancels and GoAway from the runner, matched to their callers by id.
internal sealed partial class RunnerConnection
{
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
}
