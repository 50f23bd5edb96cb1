using System.Collections;
using Xunit;

namespace Serving.Runtime.Tests;

public sealed class PlatformRulesTests
{
    public static TheoryData<string, string, int, RunnerTransport, GrpcSupport> OsCases => new()
    {
        // os, kernel release, WSL version, runner transport, gRPC in production
        { "Linux", "6.1.0-13-amd64", 0, RunnerTransport.Uds, GrpcSupport.Allowed },
        { "Linux", "5.15.153.1-microsoft-standard-WSL2", 2, RunnerTransport.Tcp, GrpcSupport.Allowed },
        { "Linux", "4.4.0-19041-Microsoft", 1, RunnerTransport.Tcp, GrpcSupport.Allowed },
        { "Windows", "10.0.22631", 0, RunnerTransport.Tcp, GrpcSupport.Denied },
        { "MacOS", "23.1.0", 0, RunnerTransport.Uds, GrpcSupport.Warning },
        { "FreeBSD", "14.0-RELEASE", 0, RunnerTransport.Uds, GrpcSupport.Warning },
        { "Plan9", "4e", 0, RunnerTransport.None, GrpcSupport.Denied },
    };

    [Theory]
    [MemberData(nameof(OsCases))]
    public void Seed_rules_per_platform(string os, string kernel, int wsl, RunnerTransport transport, GrpcSupport grpc)
    {
        var p = Facts.Info(os, kernel);
        Assert.Equal(wsl, p.WslVersion);
        Assert.Equal(wsl > 0, p.IsWsl);
        Assert.Equal(transport, p.RunnerTransport);
        Assert.Equal(grpc, p.GrpcProduction);
        Assert.Equal(103, p.MaxUnixSocketPath);
    }

    [Fact]
    public void Wsl_detection_uses_microsoft_standard_like_the_seed()
    {
        Assert.Equal(2, PlatformRules.WslVersionOf("5.10.16.3-microsoft-standard-WSL2"));
        Assert.Equal(0, PlatformRules.WslVersionOf("6.5.0-1-generic"));
        // WSL only means something on a Linux kernel.
        Assert.Equal(0, Facts.Info("Windows", "microsoft-standard").WslVersion);
    }

    [Fact]
    public void Windows_grpc_reason_names_so_reuseport_and_development()
    {
        var p = Facts.Info("Windows");
        Assert.Contains("SO_REUSEPORT", p.GrpcReason);
        Assert.Contains("-Development", p.GrpcReason);
        Assert.False(p.SupportsUnixSockets);
    }

    [Theory]
    [InlineData("MacOS", "macOS")]
    [InlineData("FreeBSD", "FreeBSD")]
    public void MacOS_FreeBSD_grpc_warning_recommends_a_linux_container(string os, string named)
    {
        var text = PlatformRules.GrpcWarning(PlatformFacts.ParseOS(os));
        Assert.Contains("SO_REUSEPORT", text);
        Assert.Contains("Linux container", text);
        Assert.Contains(named, text);
    }

    public static TheoryData<string, Hashtable?, Hashtable?, string> ContainerEvidence => new()
    {
        { "dockerenv file", new Hashtable { ["/.dockerenv"] = "" }, null, "file:/.dockerenv" },
        { "podman containerenv", new Hashtable { ["/run/.containerenv"] = "engine=podman" }, null, "file:/run/.containerenv" },
        { "systemd container type", new Hashtable { ["/run/systemd/container"] = "systemd-nspawn\n" }, null, "file:/run/systemd/container=systemd-nspawn" },
        { "cgroup docker", new Hashtable { ["/proc/self/cgroup"] = "12:cpu:/docker/" + ContainerSamples.DockerId + "\n" }, null, "cgroup:/docker/ab380ad31ac8" },
        { "cgroup kubepods", new Hashtable { ["/proc/self/cgroup"] = "0::/kubepods.slice/kubepods-burstable.slice/x" }, null, "cgroup:kubepods" },
        { "cgroup lxc", new Hashtable { ["/proc/self/cgroup"] = "0::/lxc.payload.web1" }, null, "cgroup:lxc.payload.web1" },
        { "root overlay docker", new Hashtable { ["/proc/self/mountinfo"] = "1 0 0:1 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/x" }, null, "root-overlay:docker" },
        { "kubernetes env", null, new Hashtable { ["KUBERNETES_SERVICE_HOST"] = "10.0.0.1" }, "env:KUBERNETES_SERVICE_HOST" },
        { "dotnet container env", null, new Hashtable { ["DOTNET_RUNNING_IN_CONTAINER"] = "true" }, "env:DOTNET_RUNNING_IN_CONTAINER" },
        { "systemd container env", null, new Hashtable { ["container"] = "podman" }, "env:container=podman" },
    };

    [Theory]
    [MemberData(nameof(ContainerEvidence))]
    public void Container_detection_no_worker_respawn_inside_containers(string why, Hashtable? files, Hashtable? env, string evidence)
    {
        var p = Facts.Info("Linux", files: files, env: env);
        Assert.True(p.IsContainer, why);
        Assert.Contains(evidence, p.ContainerEvidence);
        Assert.False(p.RespawnWorkers);
    }

    [Fact]
    public void No_evidence_means_not_a_container_and_respawn()
    {
        var p = Facts.Info("Linux", files: new Hashtable { ["/proc/self/cgroup"] = "0::/user.slice/session-1.scope" },
            env: new Hashtable { ["DOTNET_RUNNING_IN_CONTAINER"] = "false" });
        Assert.False(p.IsContainer);
        Assert.Empty(p.ContainerEvidence);
        Assert.True(p.RespawnWorkers);
    }

    [Theory]
    // The hosts of issue 13: each was "a container" when markers were substrings of the whole file.
    [InlineData("/proc/self/mountinfo", "612 29 0:57 / /var/lib/docker/overlay2/3285ff6124cc/merged rw,relatime shared:313 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/3QGJ,upperdir=/var/lib/docker/overlay2/3285ff6124cc/diff,workdir=/var/lib/docker/overlay2/3285ff6124cc/work")]
    [InlineData("/proc/self/mountinfo", "640 28 0:4 net:[4026532716] /run/docker/netns/5b2e4a1c9f3d rw shared:330 - nsfs nsfs rw")]
    [InlineData("/proc/self/mountinfo", "845 26 0:83 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/bdb9bbb9bd00/rootfs rw,relatime shared:437 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs")]
    [InlineData("/proc/self/mountinfo", "120 29 0:52 / /var/lib/lxcfs rw,nosuid,nodev,relatime shared:60 - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other")]
    [InlineData("/proc/self/mountinfo", "1502 29 259:2 /home/.ecryptfs/dockeruser/.Private /home/dockeruser rw,nosuid,nodev,relatime shared:790 - ecryptfs /home/.ecryptfs/dockeruser/.Private rw")]
    [InlineData("/proc/self/cgroup", "0::/system.slice/containerd.service/x")]
    [InlineData("/proc/self/cgroup", "0::/user.slice/user-1001.slice/session-4.scope")]
    public void A_host_running_container_runtimes_is_not_a_container(string file, string content)
    {
        // A host's own root mount comes first in its mountinfo.
        if (file == "/proc/self/mountinfo") content = "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n" + content;
        var p = Facts.Info("Linux", files: new Hashtable { [file] = content + "\n" });
        Assert.False(p.IsContainer);
        Assert.Empty(p.ContainerEvidence);
        Assert.True(p.RespawnWorkers);
    }

    [Fact]
    public void Override_false_wins_over_evidence()
    {
        var p = Facts.Info("Linux", files: new Hashtable { ["/.dockerenv"] = "" },
            env: new Hashtable { ["SERVING_CONTAINERIZED"] = "false" });
        Assert.False(p.IsContainer);
        Assert.Equal(new[] { "file:/.dockerenv", "env:SERVING_CONTAINERIZED=false" }, p.ContainerEvidence);
        Assert.True(p.RespawnWorkers);
    }

    [Fact]
    public void Override_true_wins_without_evidence()
    {
        var p = Facts.Info("Linux", env: new Hashtable { ["SERVING_CONTAINERIZED"] = "TRUE" });
        Assert.True(p.IsContainer);
        Assert.Equal(new[] { "env:SERVING_CONTAINERIZED=true" }, p.ContainerEvidence);
        Assert.False(p.RespawnWorkers);
    }

    [Fact]
    public void Override_garbage_is_an_error()
    {
        var e = Assert.Throws<ServingException>(() => Facts.Info("Linux", env: new Hashtable { ["SERVING_CONTAINERIZED"] = "perhaps" }));
        Assert.Equal(ErrorIds.InvalidContainerOverride, e.ErrorId);
    }

    [Theory]
    [InlineData(8, "200000 100000", null, null, 2)]
    [InlineData(8, "150000 100000", null, null, 2)]      // 1.5 CPUs round up
    [InlineData(8, "50000 100000", null, null, 1)]       // never below 1
    [InlineData(2, "800000 100000", null, null, 2)]      // a quota above the machine does not add CPUs
    [InlineData(8, "max 100000", null, null, 8)]
    [InlineData(8, null, "300000 100000", null, 3)]      // cgroup v2 cpu.max file
    [InlineData(8, null, null, "-1", 8)]                 // cgroup v1 unlimited
    [InlineData(8, null, null, "400000", 4)]             // cgroup v1 quota 400000 / period 100000
    public void Processor_count_honours_cgroup_quota(int cpus, string? quota, string? cpuMax, string? v1Quota, int expected)
    {
        var files = new Hashtable();
        if (cpuMax != null) files["/sys/fs/cgroup/cpu.max"] = cpuMax;
        if (v1Quota != null)
        {
            files["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = v1Quota;
            files["/sys/fs/cgroup/cpu/cpu.cfs_period_us"] = "100000";
        }
        Assert.Equal(expected, Facts.Info("Linux", files: files, cpus: cpus, quota: quota).ProcessorCount);
    }

    [Fact]
    public void Unknown_platform_is_unsupported_and_names_what_was_detected()
    {
        var p = Facts.Info("Haiku", "r1beta4");
        Assert.False(p.IsSupported);
        Assert.Contains("Haiku", p.UnsupportedReason);
        Assert.Contains("r1beta4", p.UnsupportedReason);
    }

    [Fact]
    public void Assumptions_reject_unknown_keys_listing_the_valid_ones()
    {
        var e = Assert.Throws<ServingException>(() => PlatformFacts.FromAssumptions(new Hashtable { ["Kernel"] = "x" }));
        Assert.Equal(ErrorIds.InvalidAssumption, e.ErrorId);
        foreach (var key in PlatformFacts.AssumptionKeys) Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Assumed_files_must_be_files_the_rules_read()
    {
        // A typo such as /proc/1/cgroup would otherwise be ignored without a word.
        var e = Assert.Throws<ServingException>(() =>
            PlatformFacts.FromAssumptions(new Hashtable { ["Files"] = new Hashtable { ["/proc/1/cgroup"] = "0::/docker/x" } }));
        Assert.Equal(ErrorIds.InvalidAssumption, e.ErrorId);
        Assert.Contains("/proc/1/cgroup", e.Message);
        Assert.Contains("/proc/self/cgroup", e.Message);
    }

    [Fact]
    public void Assumptions_give_absent_facts_not_probed_ones()
    {
        var p = PlatformRules.Evaluate(PlatformFacts.FromAssumptions(new Hashtable()));
        Assert.Equal(OSKind.Unknown, p.OS);
        Assert.False(p.IsContainer); // even though this machine has /.dockerenv
        Assert.Equal(1, p.ProcessorCount);
        Assert.True(p.IsAssumed);
    }

    [Fact]
    public void Assumption_values_of_the_wrong_shape_are_errors()
    {
        Assert.Equal(ErrorIds.InvalidAssumption, Assert.Throws<ServingException>(() =>
            PlatformFacts.FromAssumptions(new Hashtable { ["ProcessorCount"] = "many" })).ErrorId);
        Assert.Equal(ErrorIds.InvalidAssumption, Assert.Throws<ServingException>(() =>
            PlatformFacts.FromAssumptions(new Hashtable { ["Files"] = "/.dockerenv" })).ErrorId);
        Assert.Equal(ErrorIds.InvalidAssumption, Assert.Throws<ServingException>(() =>
            PlatformFacts.FromAssumptions(new Hashtable { ["ProcessorCount"] = 0 })).ErrorId);
    }

    [Fact]
    public void Probe_of_this_machine_is_consistent()
    {
        var p = PlatformRules.Evaluate(PlatformProbe.Probe());
        Assert.True(p.IsSupported);
        Assert.False(p.IsAssumed);
        Assert.True(p.ProcessorCount >= 1);
        if (OperatingSystem.IsLinux() && File.Exists("/.dockerenv") &&
            string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SERVING_CONTAINERIZED")))
        {
            Assert.True(p.IsContainer);
            Assert.Contains("file:/.dockerenv", p.ContainerEvidence);
        }
    }
}
