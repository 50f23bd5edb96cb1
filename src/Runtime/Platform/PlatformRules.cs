using System.Globalization;

namespace Serving.Runtime.Platform;

/// <summary>
/// The seed's platform rules as one pure function of <see cref="PlatformFacts"/>. Nothing here
/// touches the machine, so every rule is tested on every OS with assumed facts.
/// </summary>
public static class PlatformRules
{
    /// <summary>The environment variable that overrides container detection either way.</summary>
    public const string ContainerOverrideVariable = "SERVING_CONTAINERIZED";

    /// <summary>How the override shows in the evidence: <c>env:SERVING_CONTAINERIZED=true</c> or <c>=false</c>.</summary>
    public const string ContainerOverrideEvidencePrefix = "env:" + ContainerOverrideVariable + "=";

    /// <summary>Files a container runtime creates inside its containers only: Docker, Podman.</summary>
    private static readonly string[] ContainerMarkerFiles = { "/.dockerenv", "/run/.containerenv" };

    /// <summary>systemd's PID 1 writes the container type it detected here (images sometimes ship it too).</summary>
    private const string SystemdContainerFile = "/run/systemd/container";

    public static PlatformInfo Evaluate(PlatformFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var os = facts.OS;
        var wsl = os == OSKind.Linux ? WslVersionOf(facts.KernelRelease) : 0;
        var (isContainer, evidence) = DetectContainer(facts);
        var cpuLimit = CpuLimitOf(facts);
        var processors = cpuLimit is double limit
            ? Math.Max(1, Math.Min(facts.ProcessorCount, (int)Math.Ceiling(limit)))
            : Math.Max(1, facts.ProcessorCount);
        var supported = os != OSKind.Unknown;
        var (grpc, grpcReason) = GrpcRule(os);

        return new PlatformInfo
        {
            OS = os,
            KernelRelease = facts.KernelRelease,
            Architecture = facts.Architecture,
            IsWsl = wsl > 0,
            WslVersion = wsl,
            IsContainer = isContainer,
            ContainerEvidence = evidence,
            ProcessorCount = processors,
            CpuLimit = cpuLimit,
            SupportsUnixSockets = os is OSKind.Linux or OSKind.MacOS or OSKind.FreeBSD,
            TempDirectory = facts.TempDirectory,
            RunnerTransport = DefaultTransport(os, wsl),
            GrpcProduction = grpc,
            GrpcReason = grpcReason,
            RespawnWorkers = !isContainer,
            IsSupported = supported,
            UnsupportedReason = supported ? "" :
                $"Unsupported platform: detected OS '{facts.OSName}' (kernel '{facts.KernelRelease}', architecture '{facts.Architecture}'). " +
                "Serving runs on Linux, Windows, macOS and FreeBSD.",
            IsAssumed = facts.IsAssumed,
        };
    }

    /// <summary>
    /// WSL 2 kernels say "microsoft-standard" (the seed's check); WSL 1 reports the Windows build
    /// with "Microsoft" (e.g. "4.4.0-19041-Microsoft"), which the seed's check misses.
    /// </summary>
    public static int WslVersionOf(string kernelRelease)
    {
        if (kernelRelease.Contains("microsoft-standard", StringComparison.OrdinalIgnoreCase)) return 2;
        if (kernelRelease.Contains("microsoft", StringComparison.OrdinalIgnoreCase)) return 1;
        return 0;
    }

    /// <summary>Seed rule: UDS on POSIX except WSL; TCP on Windows and WSL.</summary>
    public static RunnerTransport DefaultTransport(OSKind os, int wslVersion) => os switch
    {
        OSKind.Windows => RunnerTransport.Tcp,
        OSKind.Linux when wslVersion > 0 => RunnerTransport.Tcp,
        OSKind.Linux or OSKind.MacOS or OSKind.FreeBSD => RunnerTransport.Uds,
        _ => RunnerTransport.None,
    };

    /// <summary>Seed rules for gRPC in production: denied on Windows, a warning on macOS/FreeBSD.</summary>
    public static (GrpcSupport, string) GrpcRule(OSKind os) => os switch
    {
        OSKind.Windows => (GrpcSupport.Denied,
            "gRPC is not supported in production mode on Windows: its API workers share one port through the " +
            "SO_REUSEPORT socket option, which Windows does not have. Use -Development (one process) or run on Linux."),
        OSKind.MacOS or OSKind.FreeBSD => (GrpcSupport.Warning, GrpcWarning(os)),
        OSKind.Linux => (GrpcSupport.Allowed, "SO_REUSEPORT spreads connections across gRPC API workers."),
        _ => (GrpcSupport.Denied, "Unsupported platform."),
    };

    /// <summary>The seed's macOS/FreeBSD warning text.</summary>
    public static string GrpcWarning(OSKind os) =>
        $"gRPC production serving on {(os == OSKind.MacOS ? "macOS" : "FreeBSD")} is not correct: SO_REUSEPORT there does not " +
        "spread connections across API workers (the last worker to bind gets them all). We recommend running the host " +
        "in a Linux container instead, or -Development for a single process.";

    /// <summary>
    /// Container evidence, in the order found: marker files, the cgroup paths of this process, its root
    /// mount, environment variables. Each piece says where it comes from (<c>file:/.dockerenv</c>,
    /// <c>cgroup:/docker/3f2a9c1b7d4e</c>, <c>root-overlay:containerd</c>, <c>env:KUBERNETES_SERVICE_HOST</c>).
    /// Only evidence of being inside a container counts: a host that runs Docker, containerd or LXD has
    /// their names all over its mount table and cgroup tree, so nothing is matched as a substring of a file.
    /// The override SERVING_CONTAINERIZED wins either way and is listed last.
    /// </summary>
    public static (bool IsContainer, string[] Evidence) DetectContainer(PlatformFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var evidence = new List<string>();
        foreach (var file in ContainerMarkerFiles)
            if (facts.Files.ContainsKey(file)) evidence.Add("file:" + file);
        if (facts.Files.TryGetValue(SystemdContainerFile, out var systemdType) && SystemdContainerType(systemdType) is { } type)
            evidence.Add($"file:{SystemdContainerFile}={type}");
        if (facts.Files.TryGetValue("/proc/self/cgroup", out var cgroup))
            evidence.AddRange(CgroupEvidence.Find(cgroup));
        if (facts.Files.TryGetValue("/proc/self/mountinfo", out var mountinfo) && RootMountEvidence.Find(mountinfo) is { } root)
            evidence.Add(root);

        if (Env(facts, "KUBERNETES_SERVICE_HOST") is { Length: > 0 }) evidence.Add("env:KUBERNETES_SERVICE_HOST");
        if (string.Equals(Env(facts, "DOTNET_RUNNING_IN_CONTAINER"), "true", StringComparison.OrdinalIgnoreCase))
            evidence.Add("env:DOTNET_RUNNING_IN_CONTAINER");
        if (Env(facts, "container") is { Length: > 0 } kind) evidence.Add($"env:container={kind}");

        var detected = evidence.Count > 0;
        if (Env(facts, ContainerOverrideVariable) is { } raw && raw.Length > 0)
        {
            var value = ParseOverride(raw);
            evidence.Add(ContainerOverrideEvidencePrefix + (value ? "true" : "false"));
            return (value, evidence.ToArray());
        }
        return (detected, evidence.ToArray());
    }

    /// <summary>
    /// The container type in /run/systemd/container, or null when it is empty or "wsl": systemd counts
    /// WSL as a container, but WSL is a whole distribution on the user's own machine, not a container
    /// reached through published ports.
    /// </summary>
    private static string? SystemdContainerType(string content)
    {
        var type = content.Trim();
        return type.Length == 0 || string.Equals(type, "wsl", StringComparison.OrdinalIgnoreCase) ? null : type;
    }

    private static bool ParseOverride(string raw) => raw.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ServingException(ErrorIds.InvalidContainerOverride, ServingErrorKind.InvalidArgument,
            $"{ContainerOverrideVariable} is '{raw}'; set it to 'true' or 'false' (or remove it to detect containers automatically).",
            ContainerOverrideVariable),
    };

    /// <summary>
    /// The CPU limit from a cgroup quota: the assumed/probed CpuQuota ("quota period"), else
    /// cgroup v2 cpu.max, else cgroup v1 cfs_quota_us/cfs_period_us. "max" or -1 means none.
    /// </summary>
    public static double? CpuLimitOf(PlatformFacts facts)
    {
        if (facts.CpuQuota is { Length: > 0 } q) return ParseCpuMax(q);
        if (facts.Files.TryGetValue("/sys/fs/cgroup/cpu.max", out var max) && max.Length > 0) return ParseCpuMax(max);
        if (facts.Files.TryGetValue("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", out var v1q) &&
            facts.Files.TryGetValue("/sys/fs/cgroup/cpu/cpu.cfs_period_us", out var v1p))
            return ParseCpuMax($"{v1q.Trim()} {v1p.Trim()}");
        return null;
    }

    /// <summary>Parses "quota period" (cgroup v2 cpu.max form). Returns null for no limit or garbage.</summary>
    public static double? ParseCpuMax(string text)
    {
        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] == "max" || parts[0] == "-1") return null;
        if (!long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var quota) || quota <= 0) return null;
        long period = 100_000;
        if (parts.Length > 1 && (!long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out period) || period <= 0))
            return null;
        return (double)quota / period;
    }

    private static string? Env(PlatformFacts facts, string name)
    {
        if (facts.Environment.TryGetValue(name, out var v)) return v;
        if (facts.OS == OSKind.Windows)
            foreach (var (k, value) in facts.Environment)
                if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) return value;
        return null;
    }
}
