using System.Net.Sockets;

namespace Serving.Worker.Transport;

/// <summary>
/// The API worker's side of a runner connection's input: received bytes in one plain buffer, read with
/// <c>Socket.ReceiveAsync</c> (not a PipeReader over a NetworkStream, whose extra layers doubled this
/// side's share of the hop, measured), and whole frames taken from its front. Not thread-safe: one
/// read loop owns it.
/// </summary>
internal sealed class SocketFrameReader(Socket socket)
{
    private const int BufferSize = 64 * 1024;

    // Unparsed bytes are _buffer[_taken.._filled); frames before _taken were handed out and stay valid until Release.
    private byte[] _buffer = new byte[BufferSize];
    private int _filled;
    private int _taken;

    /// <summary>Reads more bytes; false at the end of the stream.</summary>
    public async ValueTask<bool> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_filled == _buffer.Length)
        {
            // Only a frame larger than the buffer gets here (TryTake grew it to the frame's size).
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _filled += read;
        return read > 0;
    }

    /// <summary>
    /// The next whole frame, if one has arrived; its payload is valid until <see cref="Release"/>. A frame
    /// longer than the buffer makes the buffer grow to hold it; one over <paramref name="maxPayload"/> is a violation.
    /// </summary>
    public bool TryTake(long maxPayload, out FrameType type, out uint id, out ReadOnlyMemory<byte> payload)
    {
        type = default;
        id = 0;
        payload = default;
        var available = _filled - _taken;
        if (available < RunnerFrames.HeaderLength)
            return false;
        var length = RunnerFrames.ReadHeader(_buffer.AsSpan(_taken, RunnerFrames.HeaderLength), maxPayload, out type, out id);
        var total = RunnerFrames.HeaderLength + (int)length;
        if (available < total)
        {
            if (total > _buffer.Length)
            {
                Release();
                var bigger = new byte[total];
                _buffer.AsSpan(0, _filled).CopyTo(bigger);
                _buffer = bigger;
            }
            return false;
        }
        payload = _buffer.AsMemory(_taken + RunnerFrames.HeaderLength, (int)length);
        _taken += total;
        return true;
    }

    /// <summary>Drops the frames taken so far, moving what is left to the front.</summary>
    public void Release()
    {
        if (_taken == 0)
            return;
        var rest = _filled - _taken;
        if (rest > 0)
            _buffer.AsSpan(_taken, rest).CopyTo(_buffer);
        _filled = rest;
        _taken = 0;
        // A buffer grown for one large frame is not kept.
        if (_filled <= BufferSize && _buffer.Length > BufferSize)
            _buffer = _buffer.AsSpan(0, BufferSize).ToArray();
    }
}
