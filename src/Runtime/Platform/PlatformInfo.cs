namespace Serving.Runtime.Platform;

/// <summary>
/// What this (or an assumed) machine supports and what the host will choose on it.
/// Computed by <see cref="PlatformRules.Evaluate"/>; shown by Get-ServingPlatform.
/// </summary>
public sealed class PlatformInfo
{
    /// <summary>The largest Unix socket path we let reach bind() (BentoML's MAX_AF_UNIX_PATH_LENGTH):
    /// sun_path is 104 bytes on macOS/BSD including the terminating NUL, 108 on Linux.</summary>
    public const int UnixSocketPathLimit = 103;

    public OSKind OS { get; init; }
    public string KernelRelease { get; init; } = "";
    public string Architecture { get; init; } = "";
    public bool IsWsl { get; init; }
    /// <summary>0 (not WSL), 1 or 2.</summary>
    public int WslVersion { get; init; }
    public bool IsContainer { get; init; }
    /// <summary>
    /// Each piece of container evidence found, saying where it comes from: "file:/.dockerenv",
    /// "cgroup:/docker/3f2a9c1b7d4e", "cgroup:kubepods", "root-overlay:containerd", "env:KUBERNETES_SERVICE_HOST";
    /// the override last, "env:SERVING_CONTAINERIZED=false". See docs/platforms.md.
    /// </summary>
    public string[] ContainerEvidence { get; init; } = Array.Empty<string>();
    /// <summary>Processors usable by this process: the OS count capped by a cgroup CPU quota.</summary>
    public int ProcessorCount { get; init; }
    /// <summary>The cgroup CPU limit in CPUs (e.g. 1.5), or null when there is none.</summary>
    public double? CpuLimit { get; init; }
    public bool SupportsUnixSockets { get; init; }
    public int MaxUnixSocketPath { get; init; } = UnixSocketPathLimit;
    public string TempDirectory { get; init; } = "";
    /// <summary>The default runner transport here: Uds or Tcp (None when unsupported).</summary>
    public RunnerTransport RunnerTransport { get; init; }
    public GrpcSupport GrpcProduction { get; init; }
    public string GrpcReason { get; init; } = "";
    /// <summary>Whether crashed workers are respawned by default (not inside a container).</summary>
    public bool RespawnWorkers { get; init; }
    /// <summary>
    /// Always true: -Reload's lines (what changed, each generation starting, serving, failing) and the
    /// new workers' output reach Receive-Job and the console under -Wait on every OS — unlike the system
    /// the seed describes, which hides them on Windows.
    /// </summary>
    public bool ReloaderOutputVisible { get; init; } = true;
    public bool IsSupported { get; init; }
    /// <summary>Why the platform is unsupported, or empty.</summary>
    public string UnsupportedReason { get; init; } = "";
    /// <summary>True when computed from -Assume facts rather than probed.</summary>
    public bool IsAssumed { get; init; }
}
