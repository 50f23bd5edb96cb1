namespace Serving.Runtime.Supervision;

/// <summary>
/// A host's private directory (0700): its runner sockets, host.json and the lock that marks it as
/// live (<see cref="HostDirectoryLock"/>). Created after stale directories of dead hosts are swept;
/// disposing it releases the lock and deletes the directory.
/// </summary>
internal sealed class HostStateDirectory : IDisposable
{
    private HostDirectoryLock? _lock;

    private HostStateDirectory(string path, HostDirectoryLock directoryLock)
    {
        Path = path;
        _lock = directoryLock;
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>Sweeps what dead hosts left in the temp directory, then creates this host's directory, locked.</summary>
    public static HostStateDirectory Create(HostPlan plan)
    {
        StaleHostSweeper.Sweep(plan.Platform.TempDirectory);
        var path = plan.SocketDirectory.Length > 0
            ? plan.SocketDirectory
            : System.IO.Path.Combine(plan.Platform.TempDirectory, "serving-" + plan.HostId);
        return new HostStateDirectory(path, StaleHostSweeper.CreatePrivateDirectory(path));
    }

    /// <summary>A file in the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Releases the lock (first: Windows cannot delete a directory holding an open file) and deletes the directory.</summary>
    public void Dispose()
    {
        var held = _lock;
        _lock = null;
        if (held is null) return;
        held.Dispose();
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
