using System.Text;

namespace Serving.Runtime.Planning;

/// <summary>
/// Chooses the host's socket directory and one socket path per runner so that no path can exceed
/// the Unix socket limit (<see cref="PlatformInfo.UnixSocketPathLimit"/>). A too-long path never
/// reaches bind(): we shorten (runner ids instead of names, then a short base directory), and when
/// nothing fits we fail before any process starts.
/// </summary>
public static class SocketPathPlanner
{
    /// <summary>The short base used when the temp directory is too long (e.g. macOS's /var/folders/…).</summary>
    public const string ShortBase = "/tmp";

    public static (string Directory, string[] Paths) Plan(
        PlatformInfo platform, string? socketDirectory, IReadOnlyList<string> runnerNames, string hostId)
    {
        var limit = platform.MaxUnixSocketPath;
        var explicitBase = !string.IsNullOrEmpty(socketDirectory);
        var baseDir = explicitBase ? socketDirectory! : platform.TempDirectory;

        // 1. The natural layout: <base>/serving-<id>/<runner>.sock
        var dir = Join(baseDir, "serving-" + hostId);
        var natural = Paths(dir, runnerNames, useIds: false);
        if (Fits(natural, limit)) return (dir, natural);

        // 2. Runner ids instead of names: <base>/serving-<id>/r<n>.sock
        var byId = Paths(dir, runnerNames, useIds: true);
        if (Fits(byId, limit)) return (dir, byId);

        // 3. A short base, unless the user chose the directory: /tmp/sv-<id>/r<n>.sock
        if (!explicitBase)
        {
            var shortDir = Join(ShortBase, "sv-" + hostId);
            var shortPaths = Paths(shortDir, runnerNames, useIds: true);
            if (Fits(shortPaths, limit)) return (shortDir, shortPaths);
        }

        var longest = Longest(byId);
        var length = Encoding.UTF8.GetByteCount(longest);
        throw new ServingException(ErrorIds.UnixSocketPathTooLong, ServingErrorKind.InvalidArgument,
            $"The Unix socket path '{longest}' is {length} characters long, over the limit of {limit} " +
            $"(MAX_AF_UNIX_PATH_LENGTH) even after shortening. Pass -SocketDirectory with a shorter directory " +
            $"(for example {ShortBase}), or -Transport Tcp to use loopback TCP for runners.",
            longest);
    }

    /// <summary>Joins POSIX path parts whatever OS the planner runs on (plans for assumed platforms too).</summary>
    public static string Join(string directory, string name) =>
        directory.Length == 0 ? name : directory.TrimEnd('/') + "/" + name;

    private static string[] Paths(string dir, IReadOnlyList<string> runners, bool useIds)
    {
        var paths = new string[runners.Count];
        for (var i = 0; i < runners.Count; i++)
            paths[i] = Join(dir, (useIds ? "r" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : runners[i]) + ".sock");
        return paths;
    }

    /// <summary>
    /// A runner's socket path for host generation <paramref name="generation"/> (a reload's workers run
    /// next to the previous generation's, on sockets of their own): <c>r1.sock</c> is generation 1's,
    /// <c>r1.g2.sock</c> generation 2's. Over the limit: UnixSocketPathTooLong, before anything starts.
    /// </summary>
    public static string ForGeneration(string path, int generation, int limit)
    {
        if (generation <= 1) return path;
        var suffix = ".g" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var next = path.EndsWith(".sock", StringComparison.Ordinal) ? path[..^5] + suffix + ".sock" : path + suffix;
        var length = Encoding.UTF8.GetByteCount(next);
        if (length > limit)
            throw new ServingException(ErrorIds.UnixSocketPathTooLong, ServingErrorKind.InvalidArgument,
                $"The Unix socket path '{next}' of generation {generation} is {length} characters long, over the limit of {limit} " +
                "(MAX_AF_UNIX_PATH_LENGTH). Start the host with a shorter -SocketDirectory (for example /tmp), or -Transport Tcp.",
                next);
        return next;
    }

    private static bool Fits(string[] paths, int limit)
    {
        foreach (var p in paths)
            if (Encoding.UTF8.GetByteCount(p) > limit) return false;
        return true;
    }

    private static string Longest(string[] paths)
    {
        var longest = paths.Length > 0 ? paths[0] : "";
        foreach (var p in paths)
            if (p.Length > longest.Length) longest = p;
        return longest;
    }
}
