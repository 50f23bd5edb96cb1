using System.Buffers;
using System.Net.Sockets;

namespace Serving.Worker.Transport;

/// <summary>
/// The API worker's side of a runner connection's output: frames are written into a buffer under a
/// lock, and whoever finds no send in progress sends it, straight from the calling thread (no queue,
/// no thread hop at one call at a time). Frames written while a send is in progress wait in a second
/// buffer and go out together with the next send.
/// </summary>
internal sealed class SocketFrameSender(Socket socket)
{
    /// <summary>A buffer grown past this for one large call is dropped afterwards rather than kept.</summary>
    private const int KeepCapacity = 256 * 1024;

    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new(16 * 1024);
    private ArrayBufferWriter<byte> _spare = new(16 * 1024);
    private bool _sending;
    private bool _failed;

    /// <summary>Raised once when a send fails (the connection is broken).</summary>
    public event Action<Exception>? Failed;

    /// <summary>Takes the lock and returns the buffer to write whole frames into; call <see cref="Exit"/> after.</summary>
    public IBufferWriter<byte> Enter()
    {
        _lock.Enter();
        return _pending;
    }

    /// <summary>Releases the lock and sends what was written, unless a send in progress will.</summary>
    public void Exit()
    {
        var start = false;
        if (!_sending && !_failed && _pending.WrittenCount > 0)
        {
            _sending = true;
            start = true;
        }
        _lock.Exit();
        if (start)
            _ = SendLoopAsync();
    }

    private async Task SendLoopAsync()
    {
        while (true)
        {
            ArrayBufferWriter<byte> sending;
            lock (_lock)
            {
                if (_pending.WrittenCount == 0 || _failed)
                {
                    _sending = false;
                    return;
                }
                sending = _pending;
                _pending = _spare;
                _spare = sending;
            }
            try
            {
                var data = sending.WrittenMemory;
                while (!data.IsEmpty)
                {
                    var sent = await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
                    data = data[sent..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                lock (_lock)
                {
                    _failed = true;
                    _sending = false;
                }
                Failed?.Invoke(ex);
                return;
            }
            lock (_lock)
            {
                if (sending.Capacity > KeepCapacity)
                    _spare = new ArrayBufferWriter<byte>(16 * 1024);
                else
                    sending.ResetWrittenCount();
            }
        }
    }
}
