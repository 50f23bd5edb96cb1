using System.Net;
using System.Net.Sockets;

namespace Serving.Runtime.Supervision;

/// <summary>One listening socket the supervisor owns and hands to workers.</summary>
public sealed class Listener : IDisposable
{
    internal Listener(Socket socket, string endpoint, string? unixPath)
    {
        Socket = socket;
        Endpoint = endpoint;
        UnixPath = unixPath;
    }

    internal Socket Socket { get; }

    /// <summary>"127.0.0.1:3000", "[::1]:3000" or a Unix socket path.</summary>
    public string Endpoint { get; }

    /// <summary>The socket file we created, removed again on dispose.</summary>
    public string? UnixPath { get; }

    public int Port => Socket.LocalEndPoint is IPEndPoint ip ? ip.Port : 0;

    public IntPtr Handle => Socket.SafeHandle.DangerousGetHandle();

    public bool IsClosed { get; private set; }

    /// <summary>
    /// Closes only this process's copy of the socket. Socket.Dispose on Unix also calls shutdown(2),
    /// which acts on the socket itself, not our fd: it would stop the workers that share it from
    /// accepting. Used when the supervisor no longer needs its copy while workers keep serving.
    /// </summary>
    public void Release()
    {
        if (IsClosed) return;
        IsClosed = true;
        if (OperatingSystem.IsWindows())
        {
            Socket.Dispose();
            return;
        }
        var fd = Socket.SafeHandle.DangerousGetHandle();
        Socket.SafeHandle.SetHandleAsInvalid();
        NativeFd.CloseOnly(fd);
    }

    /// <summary>Closes the socket for everyone: shutdown(2) on Unix makes every worker sharing it stop accepting.</summary>
    public void Dispose()
    {
        if (IsClosed) return;
        IsClosed = true;
        Socket.Dispose();
    }
}
