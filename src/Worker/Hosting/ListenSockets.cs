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
    private readonly HashSet<Socket> _inherited = [];
    private bool _stopped;

    /// <summary>
    /// Answers a connection the kernel completed after the workers stopped accepting (see
    /// <see cref="StopAcceptingAsync"/>), or null to close such connections unanswered. Set for the
    /// HTTP/1.1 surface, where a one-off answer needs no protocol state.
    /// </summary>
    public Func<Socket, Task>? AnswerLateConnection { get; set; }

    /// <summary>Wraps a socket factory so every socket it creates is tracked.</summary>
    public Func<EndPoint, Socket> Track(Func<EndPoint, Socket> create) => endpoint =>
    {
        var socket = create(endpoint);
        lock (_lock)
        {
            if (!_stopped)
            {
                _sockets.Add(socket);
                if (endpoint is FileHandleEndPoint)
                    _inherited.Add(socket);
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

    /// <summary>
    /// Drops new handshakes on the listening sockets this worker owns alone (<see cref="ListenerSynFilter"/>):
    /// a socket bound here, such as an SO_REUSEPORT socket of its own. An inherited socket is shared with
    /// the other API workers — the supervisor, which holds it too, filters it when the whole host stops.
    /// Returns false when nothing was filtered.
    /// </summary>
    public bool RefuseNewHandshakes()
    {
        Socket[] sockets;
        lock (_lock)
            sockets = _sockets.Where(s => !_inherited.Contains(s)).ToArray();
        var any = false;
        foreach (var socket in sockets)
            any |= ListenerSynFilter.TryAttach(socket);
        return any;
    }

    /// <summary>
    /// Closes every listening socket: Kestrel's accept loops end, open connections carry on. Completes
    /// once the connections found waiting in the sockets' accept queues were answered (bounded).
    /// </summary>
    /// <remarks>
    /// When the last copy of a listening socket closes, the kernel resets the connections still in its
    /// accept queue — handshakes completed just before, whose clients may already have sent a request.
    /// Under a client that reconnects at once (a load generator, a pool) the queue is rarely empty.
    /// So, with <see cref="AnswerLateConnection"/> set, each socket this worker owns alone is first
    /// duplicated, Kestrel's copy closed, and the queue emptied through the duplicate with non-blocking
    /// accepts, each connection answered (HTTP 503 "Stopping" with Connection: close) rather than reset;
    /// then the duplicate is closed. (After <see cref="RefuseNewHandshakes"/> the queue is normally
    /// empty by then: this is the backstop.) A shared, inherited socket is only closed: the other
    /// workers may go on accepting from it.
    /// </remarks>
    public Task StopAcceptingAsync()
    {
        Socket[] sockets;
        lock (_lock)
        {
            _stopped = true;
            sockets = [.. _sockets];
            _sockets.Clear();
        }
        var answers = new List<Task>();
        foreach (var socket in sockets)
        {
            // Never empty a shared socket's queue: other API workers may go on serving it.
            var late = AnswerLateConnection is not null && !_inherited.Contains(socket) ? Duplicate(socket) : null;
            socket.Dispose();
            if (late is null)
                continue;
            using (late)
            {
                while (TryAcceptNow(late) is { } connection)
                    answers.Add(AnswerLateConnection!(connection));
            }
        }
        return answers.Count == 0 ? Task.CompletedTask : Task.WhenAll(answers);
    }

    private static Socket? TryAcceptNow(Socket listener)
    {
        try
        {
            return listener.Accept();
        }
        catch (SocketException)
        {
            return null; // EAGAIN: the queue is empty (or the socket is gone)
        }
    }

    /// <summary>
    /// dup(2) of a listening socket, non-blocking. The duplicate has no FD_CLOEXEC, so disposing it is a
    /// plain close(2) — never the shutdown(2) that would stop the other workers sharing the socket.
    /// </summary>
    private static Socket? Duplicate(Socket socket)
    {
        if (OperatingSystem.IsWindows())
            return null;
        var fd = Dup((int)socket.SafeHandle.DangerousGetHandle());
        if (fd < 0)
            return null;
        var copy = new Socket(new SafeSocketHandle(fd, ownsHandle: true)) { Blocking = false };
        return copy;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern int Dup(int fd);
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
