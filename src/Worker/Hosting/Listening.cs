using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Serving.Worker.Hosting;

/// <summary>Sets up the Kestrel endpoint from --listen-fd / --listen [--reuse-port true].</summary>
internal static class Listening
{
    /// <summary>The accept backlog Kestrel listens with (the supervisor's sockets use the same).</summary>
    public const int ReusePortBacklog = 1024;

    /// <summary>A stale socket file is in the way and could not be removed, or similar (exit 4).</summary>
    public sealed class ListenException(string message) : Exception(message);

    public static string Describe(WorkerArguments args) =>
        args.ListenFd is { } fd ? $"inherited socket fd {fd}"
        : args.ReusePort ? args.Listen!.Text + " (SO_REUSEPORT)"
        : args.Listen!.Text;

    /// <summary>
    /// Kestrel's socket transport creates every listening socket through <paramref name="sockets"/>,
    /// so a drain can close them the moment it begins: an inherited fd (<c>--listen-fd</c>) adopted
    /// with an owning handle, <c>--reuse-port true</c> a socket of this worker's own bound with
    /// SO_REUSEPORT (<see cref="BindReusePort"/>), anything else Kestrel's default. Kestrel calls
    /// listen() on each with backlog <see cref="ReusePortBacklog"/>.
    /// </summary>
    public static void ConfigureTransport(SocketTransportOptions options, WorkerArguments args, ListenSockets sockets)
    {
        options.Backlog = ReusePortBacklog;
        var metrics = args.MetricsListen is { } m ? new IPEndPoint(m.Ip!, m.Port) : null;
        Func<EndPoint, Socket> api = args.ReusePort ? BindReusePort : ListenSockets.CreateListenSocket;
        options.CreateBoundListenSocket = sockets.Track(endpoint =>
            metrics is not null && endpoint.Equals(metrics) && SharesMetricsPort ? BindReusePort(endpoint) : api(endpoint));
    }

    /// <param name="endpoint">Sets up the endpoint after the connection counter: HTTP protocols, or the runner protocol's connection handler.</param>
    public static void Configure(KestrelServerOptions kestrel, WorkerArguments args, OpenConnections connections, Action<ListenOptions> endpoint)
    {
        Action<ListenOptions> configure = o =>
        {
            o.Use(connections.Middleware);
            endpoint(o);
        };
        if (args.MetricsListen is { } metrics)
        {
            kestrel.Listen(new IPEndPoint(metrics.Ip!, metrics.Port), o =>
            {
                o.Protocols = HttpProtocols.Http1;
                o.Use(connections.Middleware);
            });
        }
        if (args.ListenFd is { } fd)
        {
            kestrel.ListenHandle((ulong)fd, configure);
            return;
        }

        var listen = args.Listen!;
        switch (listen.Kind)
        {
            case ListenKind.Unix:
                RemoveStaleSocket(listen.Path!);
                kestrel.ListenUnixSocket(listen.Path!, configure);
                break;
            default:
                kestrel.Listen(new IPEndPoint(listen.Ip!, listen.Port), configure);
                break;
        }
    }

    /// <summary>Whether the metrics port is bound with SO_REUSEPORT (shared by every API worker): not on Windows, where only api-1 binds it.</summary>
    private static bool SharesMetricsPort => ReusePort.IsAvailable;

    /// <summary>
    /// <c>--listen http://IP:PORT --reuse-port true</c>: a TCP socket of this worker's own with
    /// SO_REUSEPORT, bound (Kestrel then listens on it). Every API worker of a production gRPC host
    /// holds one on the same port (the supervisor keeps the port reserved with a bound, never-listening
    /// socket of the same group) and the kernel spreads new connections over the listening ones.
    /// </summary>
    public static Socket BindReusePort(EndPoint endpoint)
    {
        if (endpoint is not IPEndPoint ip)
            throw new ListenException($"--reuse-port: cannot bind {endpoint} (not an IP endpoint)");
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            ReusePort.Enable(socket);
            socket.Bind(ip);
            return socket;
        }
        catch (PlatformNotSupportedException ex)
        {
            socket.Dispose();
            throw new ListenException(ex.Message);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenException($"bind with SO_REUSEPORT failed: {ex.Message} ({ex.SocketErrorCode})");
        }
    }

    /// <summary>
    /// Deletes a socket file left behind by a dead process. Only a socket is deleted, and only when
    /// nothing accepts connections on it; anything else is left for the bind to fail on.
    /// </summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path) || !IsSocketFile(path))
            return;
        try
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new ListenException($"another process is listening on unix:{path}");
        }
        catch (SocketException)
        {
            // Nobody home: stale.
        }
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ListenException($"cannot remove stale socket file '{path}': {ex.Message}");
        }
    }

    /// <summary>lstat through the .NET runtime's own native shim (its FileStatus layout is stable: Mode at offset 4).</summary>
    private static bool IsSocketFile(string path)
    {
        if (OperatingSystem.IsWindows())
            return (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0;
        try
        {
            var status = new byte[256];
            if (LStat(path, status) != 0)
                return false;
            var mode = BitConverter.ToInt32(status, 4);
            const int S_IFMT = 0xF000, S_IFSOCK = 0xC000;
            return (mode & S_IFMT) == S_IFSOCK;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int LStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] output);
}
