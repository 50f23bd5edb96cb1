using System.Globalization;

namespace Serving.Runtime.Supervision;

/// <summary>
/// Private state directories: created mode 0700 and locked by their supervisor for its lifetime
/// (<see cref="HostDirectoryLock"/>); directories whose lock nobody holds any more (the supervisor
/// died, even by SIGKILL) are removed before a new host binds anything.
/// </summary>
public static class StaleHostSweeper
{
    /// <summary>The supervisor's pid, for people reading the directory; liveness is the lock, never this pid.</summary>
    public const string PidFile = "supervisor.pid";

    /// <summary>Creates (or takes over) a private directory and locks it for the caller's lifetime.</summary>
    public static HostDirectoryLock CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // An existing directory keeps its mode: make sure it is ours alone.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var directoryLock = HostDirectoryLock.Create(path);
        File.WriteAllText(Path.Combine(path, PidFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return directoryLock;
    }

    /// <summary>
    /// Removes serving-*/sv-* directories (in the temp dir and /tmp) whose lock can be taken: their owner
    /// is gone. A directory without a lock file, or whose lock is held, is never touched.
    /// </summary>
    public static void Sweep(string tempDirectory)
    {
        foreach (var root in new[] { tempDirectory, SocketPathPlanner.ShortBase }.Distinct())
        {
            if (!Directory.Exists(root)) continue;
            string[] candidates;
            try
            {
                candidates = Directory.GetDirectories(root, "serving-*").Concat(Directory.GetDirectories(root, "sv-*")).ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var dir in candidates)
            {
                var orphan = HostDirectoryLock.TryTakeOver(dir);
                if (orphan is null) continue;
                // Released before the delete: Windows cannot remove a directory that holds an open file,
                // and no host ever reuses a directory name (host ids are random), so nobody claims it between.
                orphan.Dispose();
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
    }
}
