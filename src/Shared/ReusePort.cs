using System.Net.Sockets;

namespace Serving.Shared;

/// <summary>
/// SO_REUSEPORT, set one way by the supervisor (reserving a port for workers that bind it themselves) and by the
/// workers (binding it): the option's level and number differ by OS (Linux SOL_SOCKET=1 / SO_REUSEPORT=15;
/// macOS and FreeBSD 0xffff / 0x200), and Windows has none.
/// </summary>
public static class ReusePort
{
    /// <summary>Whether this OS has SO_REUSEPORT.</summary>
    public static bool IsAvailable => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    /// <summary>Sets SO_REUSEPORT on <paramref name="socket"/> before it is bound.</summary>
    /// <exception cref="PlatformNotSupportedException">The OS has no SO_REUSEPORT.</exception>
    public static void Enable(Socket socket)
    {
        if (OperatingSystem.IsLinux())
            socket.SetRawSocketOption(1, 15, BitConverter.GetBytes(1));
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
            socket.SetRawSocketOption(0xffff, 0x200, BitConverter.GetBytes(1));
        else
            throw new PlatformNotSupportedException("SO_REUSEPORT is not available on this platform");
    }
}
