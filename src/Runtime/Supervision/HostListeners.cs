using System.Net;
using System.Net.Sockets;

namespace Serving.Runtime.Supervision;

/// <summary>
/// Binds the sockets a host needs before any worker starts, so that a port in use or a bad
/// address is a clean error with nothing started. The supervisor keeps its copy of each socket
/// (to hand it to respawned workers) until the host stops.
/// </summary>
public static class HostListeners
{
    /// <summary>A generous backlog: bursts of new connections wait in the kernel, not in RST.</summary>
    public const int Backlog = 1024;

    /// <summary>Binds the API's TCP listening socket. No SO_REUSEADDR: on Linux .NET would add
    /// SO_REUSEPORT with it, and a second host could then silently share our port.</summary>
    public static Listener BindTcp(IPAddress address, int port) => BindTcpCore(address, port, reservation: false);

    /// <summary>
    /// Reserves a port for API workers that each bind it themselves with SO_REUSEPORT (production gRPC,
    /// as the seed's system does): a bound, never-listening socket in the same SO_REUSEPORT group.
    /// It receives no connections (the kernel only spreads them over listening sockets) but makes a
    /// port already taken by someone else fail here, before any worker starts, and keeps it ours.
    /// </summary>
    public static Listener ReservePort(IPAddress address, int port) => BindTcpCore(address, port, reservation: true);

    private static Listener BindTcpCore(IPAddress address, int port, bool reservation)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            if (reservation) ReusePort.Enable(socket);
            socket.Bind(new IPEndPoint(address, port));
            if (!reservation) socket.Listen(Backlog);
            return new Listener(socket, FormatEndpoint((IPEndPoint)socket.LocalEndPoint!), null);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw BindError(e, address, port);
        }
    }

    private static ServingException BindError(SocketException e, IPAddress address, int port)
    {
        var where = FormatEndpoint(new IPEndPoint(address, port));
        if (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            return new ServingException(ErrorIds.PortInUse, ServingErrorKind.ResourceUnavailable,
                $"Port {port} on {address} is already in use. Stop whatever listens there (Get-ServingHost shows hosts of this session), " +
                "or choose another -Port.", where, e);
        return new ServingException(ErrorIds.BindFailed, ServingErrorKind.ResourceUnavailable,
            $"Cannot listen on {where}: {e.Message} ({e.SocketErrorCode}). Check -HostAddress names an address of this machine.", where, e);
    }

    /// <summary>Binds a runner's Unix socket (mode 0600), removing a stale socket file a dead host left behind.</summary>
    public static Listener BindUnix(string path)
    {
        RemoveStaleSocket(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            // The file gets the umask's mode (often 0755): only its owner may connect, whatever the directory.
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(Backlog);
            return new Listener(socket, path, path);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ServingException(ErrorIds.BindFailed, ServingErrorKind.ResourceUnavailable,
                $"Cannot listen on the Unix socket '{path}': {e.Message} ({e.SocketErrorCode}).", path, e);
        }
    }

    /// <summary>Deletes <paramref name="path"/> only if it is a socket: never a file we did not create.</summary>
    public static void RemoveStaleSocket(string path)
    {
        try
        {
            if (NativeFd.IsSocketFile(path)) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public static string FormatEndpoint(IPEndPoint endpoint) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]:{endpoint.Port}"
            : $"{endpoint.Address}:{endpoint.Port}";
}
