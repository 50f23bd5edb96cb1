using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Serving.Worker.Hosting;

/// <summary>
/// The listening sockets this worker's Kestrel accepts on, created through
/// <c>SocketTransportOptions.CreateBoundListenSocket</c> so the worker can stop accepting the
/// moment a drain begins — before Kestrel's own stop, which first waits for idle keep-alive
/// connections to get their <c>Connection: close</c> (see <see cref="OpenConnections"/>).
/// </summary>
/// <remarks>
/// Kestrel adopts an inherited fd (<c>ListenHandle</c>) with a non-owning handle: it never closes
/// it, so the socket kept listening — and the kernel kept completing handshakes nobody would
/// accept — until the process exited, when those connections were reset after their clients had
/// sent a request. Here the handle is owned: disposing it close(2)s this process's copy. Because
/// the inherited fd has no FD_CLOEXEC, .NET does not shutdown(2) it on dispose, so API workers
/// that share the socket and are not draining keep accepting on it. Once every copy is closed
/// (the supervisor drops its own when a stop begins) the port refuses new connections.
/// </remarks>
internal sealed class ListenSockets
{
    private readonly Lock _lock = new();
    private readonly List<Socket> _sockets = [];
    private bool _stopped;

    /// <summary>Wraps a socket factory so every socket it creates is tracked.</summary>
    public Func<EndPoint, Socket> Track(Func<EndPoint, Socket> create) => endpoint =>
    {
        var socket = create(endpoint);
        lock (_lock)
        {
            if (!_stopped)
            {
                _sockets.Add(socket);
                return socket;
            }
        }
        socket.Dispose();
        throw new ObjectDisposedException(nameof(ListenSockets), "the worker stopped accepting");
    };

    /// <summary>
    /// The default factory, except that an inherited fd is adopted with an owning handle (see the
    /// remarks): Kestrel's default would never close it.
    /// </summary>
    public static Socket CreateListenSocket(EndPoint endpoint) =>
        endpoint is FileHandleEndPoint inherited
            ? new Socket(new SafeSocketHandle((IntPtr)inherited.FileHandle, ownsHandle: true))
            : Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);

    /// <summary>Closes every listening socket: Kestrel's accept loops end, open connections carry on.</summary>
    public void StopAccepting()
    {
        Socket[] sockets;
        lock (_lock)
        {
            _stopped = true;
            sockets = [.. _sockets];
            _sockets.Clear();
        }
        foreach (var socket in sockets)
            socket.Dispose();
    }
}

/// <summary>
/// Counts the open connections of an endpoint (a Kestrel connection middleware: per connection,
/// never per request), so a drain can tell when every keep-alive client has gone.
/// </summary>
internal sealed class OpenConnections
{
    private int _count;
    private TaskCompletionSource? _none;

    public int Count => Volatile.Read(ref _count);

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        Interlocked.Increment(ref _count);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _count) == 0)
                Volatile.Read(ref _none)?.TrySetResult();
        }
    };

    /// <summary>Completes when no connection is open, or after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilNoneAsync(TimeSpan timeout)
    {
        var none = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _none, none);
        if (Count == 0)
            return;
        await Task.WhenAny(none.Task, Task.Delay(timeout)).ConfigureAwait(false);
    }
}
