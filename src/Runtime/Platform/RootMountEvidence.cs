using System.Text;

namespace Serving.Runtime.Platform;

/// <summary>
/// Container evidence in <c>/proc/self/mountinfo</c>: this process's root (<c>/</c>) is an overlay whose
/// layers live in a container runtime's image storage. Only the root mount counts. A host that runs
/// Docker or containerd has their overlays mounted somewhere below <c>/var/lib</c> or <c>/run</c>, and
/// those lines describe the containers, not this process; a live system's overlay root has its layers
/// elsewhere (<c>/run/live/...</c>) and is not a container either.
/// </summary>
public static class RootMountEvidence
{
    /// <summary>
    /// <c>root-overlay:docker</c>, <c>root-overlay:containerd</c> or <c>root-overlay:containers-storage</c>
    /// (the storage of Podman, CRI-O and Buildah), or null when the root is not such an overlay.
    /// </summary>
    public static string? Find(string procSelfMountinfo)
    {
        ArgumentNullException.ThrowIfNull(procSelfMountinfo);
        var root = RootMount(procSelfMountinfo);
        if (root is not { } mount || mount.FileSystem != "overlay") return null;
        foreach (var layer in OverlayLayers(mount.SuperOptions))
            if (StorageOf(layer) is { } runtime)
                return "root-overlay:" + runtime;
        return null;
    }

    /// <summary>
    /// The last mount whose mount point (5th field) is exactly "/" (a later mount on / hides earlier ones):
    /// its file system type and super options, the two fields after the " - " separator.
    /// Format: <c>id parent major:minor root mountpoint options [optional...] - fstype source superoptions</c>.
    /// </summary>
    private static (string FileSystem, string SuperOptions)? RootMount(string mountinfo)
    {
        (string, string)? root = null;
        foreach (var rawLine in mountinfo.Split('\n'))
        {
            var fields = rawLine.TrimEnd('\r').Split(' ');
            if (fields.Length < 10 || fields[4] != "/") continue;
            var separator = Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 3 >= fields.Length) continue;
            root = (fields[separator + 1], fields[separator + 3]);
        }
        return root;
    }

    /// <summary>
    /// Every directory named by lowerdir (colon-separated), the lowerdir+/datadir+ options newer kernels
    /// show one layer at a time, upperdir and workdir, with mountinfo's octal escapes (\040 for a space) undone.
    /// </summary>
    private static IEnumerable<string> OverlayLayers(string superOptions)
    {
        // The kernel escapes ',' inside a value as \054, so splitting before unescaping is safe.
        foreach (var option in superOptions.Split(','))
        {
            var eq = option.IndexOf('=');
            if (eq <= 0) continue;
            var name = option[..eq];
            if (name is not ("lowerdir" or "lowerdir+" or "datadir+" or "upperdir" or "workdir")) continue;
            foreach (var dir in option[(eq + 1)..].Split(':', StringSplitOptions.RemoveEmptyEntries))
                yield return Unescape(dir);
        }
    }

    /// <summary>Which runtime's image storage a layer directory is in, or null.</summary>
    private static string? StorageOf(string dir)
    {
        var segments = dir.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // Docker first: with the containerd image store, dockerd keeps containerd snapshots under its own
        // data root (/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/...).
        if (dir.StartsWith("/var/lib/docker/", StringComparison.Ordinal)) return "docker";
        for (var i = 0; i + 1 < segments.Length; i++)
        {
            // Rootless Docker (~/.local/share/docker/overlay2) and the Docker snap (.../var-lib-docker/overlay2).
            if (segments[i] is ("docker" or "var-lib-docker") && segments[i + 1] is ("overlay2" or "overlay" or "containerd"))
                return "docker";
        }
        // containerd's overlay snapshotter, wherever its root is: /var/lib/containerd, k3s and RKE2
        // (/var/lib/rancher/*/agent/containerd), MicroK8s, rootless containerd.
        foreach (var segment in segments)
            if (segment.StartsWith("io.containerd.snapshotter.v1.", StringComparison.Ordinal))
                return "containerd";
        // containers/storage (Podman, CRI-O, Buildah): /var/lib/containers/storage/overlay, rootless
        // ~/.local/share/containers/storage/overlay, the transient /run/containers/storage/overlay.
        for (var i = 0; i + 2 < segments.Length; i++)
            if (segments[i] == "containers" && segments[i + 1] == "storage" && segments[i + 2] == "overlay")
                return "containers-storage";
        return null;
    }

    /// <summary>Undoes the kernel's \ooo octal escapes; it escapes only ASCII (space, tab, newline, backslash, comma).</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var text = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                text.Append((char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                i += 3;
            }
            else
            {
                text.Append(s[i]);
            }
        }
        return text.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
