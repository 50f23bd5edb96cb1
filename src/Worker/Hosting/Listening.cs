using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Serving.Worker.Hosting;

/// <summary>Sets up the Kestrel endpoint from --listen-fd / --listen.</summary>
internal static class Listening
{
    /// <summary>A stale socket file is in the way and could not be removed, or similar (exit 4).</summary>
    public sealed class ListenException(string message) : Exception(message);

    public static string Describe(WorkerArguments args) =>
        args.ListenFd is { } fd ? $"inherited socket fd {fd}" : args.Listen!.Text;

    public static void Configure(KestrelServerOptions kestrel, WorkerArguments args, HttpProtocols protocols)
    {
        Action<ListenOptions> configure = o => o.Protocols = protocols;
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
