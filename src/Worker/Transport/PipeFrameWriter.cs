using System.Buffers;
using System.IO.Pipelines;

namespace Serving.Worker.Transport;

/// <summary>
/// Writes frames into a connection's output pipe from any thread, and flushes them in as few
/// flushes as the load allows: frames written while a flush is in flight, or while the read loop is
/// working through a buffer of calls (<see cref="Defer"/>), go out with the next one. Under load one
/// flush (one send) carries the replies of many calls; at one call at a time each reply is flushed
/// at once.
/// </summary>
/// <remarks>
/// A <see cref="PipeWriter"/> is not thread-safe: every write and every call to FlushAsync happens
/// under <see cref="_lock"/>, and only one flush is outstanding at a time; its await happens outside
/// the lock, as in Kestrel's own HTTP/2 frame writer.
/// </remarks>
internal sealed class PipeFrameWriter(PipeWriter output)
{
    private readonly Lock _lock = new();
    private bool _flushing;
    private bool _dirty;
    private int _deferring;
    private bool _completed;

    /// <summary>Writes one frame with <paramref name="write"/> (called under the lock) and sees that it is flushed.</summary>
    public void Write<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_lock)
        {
            if (_completed)
                return;
            write(output, state);
            if (_flushing || _deferring > 0)
            {
                _dirty = true;
                return;
            }
            _flushing = true;
        }
        _ = FlushLoopAsync();
    }

    /// <summary>Holds flushes back until <see cref="Resume"/>: the read loop writes a buffer's worth of replies, then flushes once.</summary>
    public void Defer()
    {
        lock (_lock)
            _deferring++;
    }

    public void Resume()
    {
        lock (_lock)
        {
            _deferring--;
            if (_deferring > 0 || !_dirty || _flushing || _completed)
                return;
            _flushing = true;
        }
        _ = FlushLoopAsync();
    }

    /// <summary>Stops writing: frames written later are dropped (the connection is closing).</summary>
    public void Complete()
    {
        lock (_lock)
            _completed = true;
    }

    /// <summary>Flushes everything written so far and waits for it (before the connection closes).</summary>
    public async ValueTask FlushAsync()
    {
        ValueTask<FlushResult> flush;
        lock (_lock)
        {
            if (_flushing)
                flush = default;
            else
            {
                _dirty = false;
                flush = output.FlushAsync();
            }
        }
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
        }
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            ValueTask<FlushResult> flush;
            lock (_lock)
            {
                _dirty = false;
                flush = output.FlushAsync();
            }
            bool done;
            try
            {
                done = (await flush.ConfigureAwait(false)).IsCompleted;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
            {
                done = true;
            }
            lock (_lock)
            {
                if (done)
                    _completed = true;
                if (done || !_dirty || _deferring > 0)
                {
                    _flushing = false;
                    return;
                }
            }
        }
    }
}
