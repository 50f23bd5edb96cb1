using System.Globalization;

namespace Serving;

/// <summary>
/// The seed's platform rules as one pure function of <see cref="PlatformFacts"/>. Nothing here
/// touches the machine, so every rule is tested on every OS with assumed facts.
/// </summary>
public static class PlatformRules
{
    /// <summary>The environment variable that overrides container detection either way.</summary>
    public const string ContainerOverrideVariable = "SERVING_CONTAINERIZED";

    // cgroup / mountinfo path fragments that mean "this process is in a container".
    private static readonly string[] ContainerMarkers = { "docker", "kubepods", "containerd", "lxc" };

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
            ReloaderOutputVisible = true,
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

    /// <summary>Container evidence, in the order found; the override SERVING_CONTAINERIZED wins either way.</summary>
    public static (bool IsContainer, string[] Evidence) DetectContainer(PlatformFacts facts)
    {
        var evidence = new List<string>();
        foreach (var file in new[] { "/.dockerenv", "/run/.containerenv" })
            if (facts.Files.ContainsKey(file)) evidence.Add(file);

        AddMarkers(facts, "/proc/self/cgroup", "cgroup", evidence);
        AddMarkers(facts, "/proc/self/mountinfo", "mountinfo", evidence);

        if (Env(facts, "KUBERNETES_SERVICE_HOST") is { Length: > 0 }) evidence.Add("KUBERNETES_SERVICE_HOST");
        if (string.Equals(Env(facts, "DOTNET_RUNNING_IN_CONTAINER"), "true", StringComparison.OrdinalIgnoreCase))
            evidence.Add("DOTNET_RUNNING_IN_CONTAINER");
        if (Env(facts, "container") is { Length: > 0 } kind) evidence.Add($"container={kind}");

        var detected = evidence.Count > 0;
        if (Env(facts, ContainerOverrideVariable) is { } raw && raw.Length > 0)
        {
            var value = ParseOverride(raw);
            evidence.Add($"{ContainerOverrideVariable}={(value ? "true" : "false")}");
            return (value, evidence.ToArray());
        }
        return (detected, evidence.ToArray());
    }

    private static bool ParseOverride(string raw) => raw.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ServingException(ErrorIds.InvalidContainerOverride, ServingErrorKind.InvalidArgument,
            $"{ContainerOverrideVariable} is '{raw}'; set it to 'true' or 'false' (or remove it to detect containers automatically).",
            ContainerOverrideVariable),
    };

    private static void AddMarkers(PlatformFacts facts, string file, string label, List<string> evidence)
    {
        if (!facts.Files.TryGetValue(file, out var content) || content.Length == 0) return;
        foreach (var marker in ContainerMarkers)
        {
            // Markers appear as path segments ("/docker/<id>", "/kubepods/...", "docker-<id>.scope"),
            // so a plain substring test is what the container runtimes themselves rely on.
            if (content.Contains(marker, StringComparison.OrdinalIgnoreCase))
                evidence.Add($"{label}:{marker}");
        }
    }

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
