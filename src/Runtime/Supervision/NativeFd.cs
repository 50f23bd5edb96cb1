using System.Runtime.InteropServices;

namespace Serving.Runtime.Supervision;

/// <summary>
/// Controls FD_CLOEXEC on POSIX so a listening socket survives into a worker process.
/// .NET creates every fd close-on-exec; we clear the flag just around one spawn, under
/// <see cref="SpawnLock"/>, so no other spawn of ours inherits a socket it should not.
/// </summary>
/// <remarks>
/// Uses .NET's own System.Native shim (what SafeFileHandle uses) rather than libc's fcntl:
/// fcntl is variadic, and a variadic P/Invoke is wrong on Apple arm64.
/// </remarks>
internal static partial class NativeFd
{
    private const int FD_CLOEXEC = 1;

    /// <summary>Held for the whole clear-flag / spawn / restore-flag sequence.</summary>
    public static readonly object SpawnLock = new();

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FcntlSetFD", SetLastError = true)]
    private static partial int FcntlSetFD(IntPtr fd, int flags);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FcntlGetFD", SetLastError = true)]
    private static partial int FcntlGetFD(IntPtr fd);

    public static void SetInheritable(IntPtr fd, bool inheritable)
    {
        var flags = FcntlGetFD(fd);
        if (flags < 0) throw new IOException($"fcntl(F_GETFD) failed on fd {fd} (errno {Marshal.GetLastPInvokeError()}).");
        var wanted = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
        if (FcntlSetFD(fd, wanted) < 0)
            throw new IOException($"fcntl(F_SETFD) failed on fd {fd} (errno {Marshal.GetLastPInvokeError()}).");
    }

    // SystemNative_LStat fills .NET's FileStatus { int Flags; int Mode; ... }: Mode is the raw st_mode.
    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* status);

    private const int S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    /// <summary>True when <paramref name="path"/> exists and is a Unix socket (not following links).</summary>
    public static unsafe bool IsSocketFile(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        var status = stackalloc byte[512];
        if (LStat(path, status) != 0) return false;
        var mode = *(int*)(status + 4);
        return (mode & S_IFMT) == S_IFSOCK;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Close", SetLastError = true)]
    private static partial int Close(IntPtr fd);

    /// <summary>close(2) without the shutdown(2) that Socket.Dispose does on Unix.</summary>
    public static void CloseOnly(IntPtr fd) => Close(fd);

    public static bool IsInheritable(IntPtr fd) => (FcntlGetFD(fd) & FD_CLOEXEC) == 0;

    // System.Native's PAL values for flock(2) operations.
    private const int PAL_LOCK_EX = 2, PAL_LOCK_NB = 4;

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FLock", SetLastError = true)]
    private static partial int FLock(IntPtr fd, int operation);

    /// <summary>
    /// flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the exclusive lock, false when
    /// another open file (in any process, in any PID namespace sharing the file system) holds it.
    /// </summary>
    public static bool TryLockExclusive(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return FLock(file.DangerousGetHandle(), PAL_LOCK_EX | PAL_LOCK_NB) == 0;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
