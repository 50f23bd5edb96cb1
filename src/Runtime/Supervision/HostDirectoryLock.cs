namespace Serving.Runtime.Supervision;

/// <summary>
/// The proof that a host's private directory has a live owner: an exclusive lock on
/// <see cref="FileName"/> in it, held by the supervisor for as long as the host lives. The kernel drops
/// the lock when the owner dies, even by SIGKILL, so the sweep of a later host can tell a dead owner
/// from a live one in another PID namespace (a container sharing /tmp, <c>unshare --pid</c>) whose pid
/// it cannot see.
/// </summary>
/// <remarks>
/// On POSIX the lock is flock(2), taken explicitly (not only through .NET's FileShare, which
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns off). The lock file is created and locked under a
/// temporary name and then renamed into place, so a sweeper never sees an unlocked
/// <see cref="FileName"/> of a host that is still being created. On Windows an open FileShare.None
/// handle is the lock; creating the file with it is atomic.
/// </remarks>
public sealed class HostDirectoryLock : IDisposable
{
    /// <summary>The lock file in a host directory; a directory without it is never swept.</summary>
    public const string FileName = "supervisor.lock";

    private readonly FileStream _file;

    private HostDirectoryLock(FileStream file) => _file = file;

    /// <summary>Creates and takes the lock of a new host directory.</summary>
    /// <exception cref="IOException">The lock could not be created or taken.</exception>
    public static HostDirectoryLock Create(string directory)
    {
        var final = Path.Combine(directory, FileName);
        if (OperatingSystem.IsWindows())
            return new HostDirectoryLock(new FileStream(final, FileMode.Create, FileAccess.ReadWrite, FileShare.Delete));

        var temporary = Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        var file = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            if (!NativeFd.TryLockExclusive(file.SafeFileHandle))
                throw new IOException($"Cannot lock '{temporary}'.");
            File.Move(temporary, final, overwrite: true);
            return new HostDirectoryLock(file);
        }
        catch
        {
            file.Dispose();
            try { File.Delete(temporary); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Takes the lock of an existing host directory if its owner is gone. Null when the owner still
    /// holds it, or when the directory has no lock file (then it is not provably ours, or not yet).
    /// </summary>
    public static HostDirectoryLock? TryTakeOver(string directory)
    {
        var path = Path.Combine(directory, FileName);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            return null; // FileShare.None refused: a live owner holds it.
        }
        catch (UnauthorizedAccessException)
        {
            return null; // another user's host: not ours to judge.
        }
        if (!OperatingSystem.IsWindows() && !NativeFd.TryLockExclusive(file.SafeFileHandle))
        {
            file.Dispose();
            return null;
        }
        return new HostDirectoryLock(file);
    }

    /// <summary>Releases the lock (closing the file is what releases it).</summary>
    public void Dispose() => _file.Dispose();
}
