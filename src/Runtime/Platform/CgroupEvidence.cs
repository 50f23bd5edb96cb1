namespace Serving.Runtime.Platform;

/// <summary>
/// Container evidence in <c>/proc/self/cgroup</c>: the cgroup paths of this process whose path
/// segments name a container. Only whole segments count, never a substring: a host process in
/// <c>/system.slice/docker.service</c> (dockerd itself) or <c>/system.slice/snap.lxd.daemon.service</c>
/// is not in a container, while one in <c>/system.slice/docker-&lt;64 hex&gt;.scope</c> is.
/// </summary>
/// <remarks>
/// A cgroup path only tells when the container shares the host's cgroup namespace (cgroup v1, or
/// v2 with <c>--cgroupns=host</c>). With a private cgroup namespace, the default of Docker and
/// Podman on cgroup v2, the path is <c>0::/</c> and says nothing; the marker files and the root
/// mount tell there.
/// </remarks>
public static class CgroupEvidence
{
    /// <summary>
    /// Runtimes whose container cgroups are named after the 64-hex container id: runc's systemd driver
    /// makes <c>&lt;prefix&gt;-&lt;id&gt;.scope</c>, the cgroupfs driver <c>/docker/&lt;id&gt;</c> or
    /// <c>libpod-&lt;id&gt;</c>, and a systemd-style path given to the cgroupfs driver stays
    /// <c>slice:&lt;prefix&gt;:&lt;id&gt;</c>.
    /// </summary>
    private static readonly string[] RuntimePrefixes = { "docker", "cri-containerd", "crio", "libpod", "nerdctl" };

    private const int ContainerIdLength = 64;

    /// <summary>How many characters of a container id evidence shows (Docker's short id).</summary>
    private const int ShortIdLength = 12;

    /// <summary>
    /// Evidence such as <c>cgroup:/docker/3f2a9c1b7d4e</c>, <c>cgroup:kubepods</c>,
    /// <c>cgroup:lxc.payload.web1</c>: one entry per kind (docker, kubepods, cri-containerd, crio,
    /// libpod, nerdctl, lxc), however many lines show it, in the order found.
    /// </summary>
    public static string[] Find(string procSelfCgroup)
    {
        ArgumentNullException.ThrowIfNull(procSelfCgroup);
        var evidence = new List<string>();
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rawLine in procSelfCgroup.Split('\n'))
        {
            var path = PathOf(rawLine.TrimEnd('\r'));
            if (path is null) continue;
            var segments = Segments(path);
            for (var i = 0; i < segments.Count; i++)
            {
                if (Match(segments, i) is { } found && kinds.Add(found.Kind))
                    evidence.Add("cgroup:" + found.Evidence);
            }
        }
        return evidence.ToArray();
    }

    /// <summary>The path of a line <c>id:controllers:path</c> (v1) or <c>0::path</c> (v2), or null.</summary>
    private static string? PathOf(string line)
    {
        // The path may itself hold ':' (slice:prefix:id), so only the first two separate fields.
        var first = line.IndexOf(':');
        if (first < 0) return null;
        var second = line.IndexOf(':', first + 1);
        if (second < 0) return null;
        var path = line[(second + 1)..];
        return path.StartsWith('/') ? path : null;
    }

    /// <summary>Path segments split at '/' and ':', each with the separator before it.</summary>
    private static List<(string Text, char Separator)> Segments(string path)
    {
        var segments = new List<(string, char)>();
        var start = 0;
        var separator = '/';
        for (var i = 0; i <= path.Length; i++)
        {
            if (i < path.Length && path[i] != '/' && path[i] != ':') continue;
            if (i > start) segments.Add((path[start..i], separator));
            if (i < path.Length) separator = path[i];
            start = i + 1;
        }
        return segments;
    }

    private static (string Kind, string Evidence)? Match(List<(string Text, char Separator)> segments, int i)
    {
        var (text, separator) = segments[i];
        var next = i + 1 < segments.Count ? segments[i + 1] : default;
        var lead = separator == '/' ? "/" : "";

        foreach (var prefix in RuntimePrefixes)
        {
            // docker-<id>.scope (systemd driver), libpod-<id> / crio-<id> (cgroupfs driver).
            if (text.Length > prefix.Length + 1 && text.StartsWith(prefix, StringComparison.Ordinal) && text[prefix.Length] == '-')
            {
                var rest = text[(prefix.Length + 1)..];
                var scope = rest.EndsWith(".scope", StringComparison.Ordinal);
                var id = scope ? rest[..^".scope".Length] : rest;
                if (IsContainerId(id))
                    return (prefix, $"{prefix}-{id[..ShortIdLength]}{(scope ? ".scope" : "")}");
            }
            // /docker/<id> (cgroupfs driver), slice:cri-containerd:<id> (systemd-style path, cgroupfs driver).
            if (text == prefix && next.Text is { } nextText && IsContainerId(nextText))
                return (prefix, $"{lead}{prefix}{next.Separator}{nextText[..ShortIdLength]}");
        }

        // Kubernetes pods: kubepods (cgroupfs driver), kubepods.slice and kubepods-<qos>[-pod<uid>].slice (systemd driver).
        if (text == "kubepods" || text == "kubepods.slice" ||
            (text.StartsWith("kubepods-", StringComparison.Ordinal) && text.EndsWith(".slice", StringComparison.Ordinal)))
            return ("kubepods", "kubepods");

        // LXC before 4.0: /lxc/<name>. LXC 4+ and LXD: lxc.payload.<name> (or lxc.payload/<name>);
        // lxc.monitor.<name> holds the monitor, a host process, and does not count.
        if (text == "lxc" && next.Text is { Length: > 0 } name && next.Separator == '/')
            return ("lxc", $"{lead}lxc/{name}");
        if (text.StartsWith("lxc.payload.", StringComparison.Ordinal) && text.Length > "lxc.payload.".Length)
            return ("lxc", text);
        if (text == "lxc.payload" && next.Text is { Length: > 0 } payload && next.Separator == '/')
            return ("lxc", $"lxc.payload/{payload}");

        return null;
    }

    private static bool IsContainerId(string s)
    {
        if (s.Length != ContainerIdLength) return false;
        foreach (var c in s)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
