using System.Diagnostics;
using System.Globalization;

namespace Serving;

/// <summary>
/// Private state directories: created mode 0700 with the supervisor's pid inside; directories left
/// by a supervisor that died (even by SIGKILL) are removed before a new host binds anything.
/// </summary>
public static class StaleHostSweeper
{
    public const string PidFile = "supervisor.pid";

    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // An existing directory keeps its mode: make sure it is ours alone.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Path.Combine(path, PidFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Removes serving-*/sv-* directories (in the temp dir and /tmp) whose supervisor is gone.</summary>
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
                try
                {
                    var pidFile = Path.Combine(dir, PidFile);
                    if (!File.Exists(pidFile)) continue; // not one of ours: never touch it
                    if (!int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)) continue;
                    if (IsAlive(pid)) continue;
                    Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
