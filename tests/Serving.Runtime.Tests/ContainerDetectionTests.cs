using System.Collections;
using Xunit;
using static Serving.Runtime.Tests.ContainerSamples;

namespace Serving.Runtime.Tests;

/// <summary>
/// Container detection on realistic whole files: containers of every runtime must be detected with the
/// exact evidence, and hosts that merely run those runtimes must not be (issue 13: such a host bound the
/// API to 0.0.0.0 and never respawned workers).
/// </summary>
public sealed class ContainerDetectionTests
{
    /// <summary>One machine: its watched files and environment, and what detection must conclude.</summary>
    private sealed record Sample(
        string? Cgroup, string? Mountinfo, bool IsContainer, string[] Evidence,
        Hashtable? MarkerFiles = null, Hashtable? Env = null, string Kernel = "6.8.0-45-generic");

    private static readonly Hashtable DockerEnv = new() { ["/.dockerenv"] = "" };
    private static readonly Hashtable ContainerEnv = new() { ["/run/.containerenv"] = "engine=\"podman-4.9.3\"\n" };
    private static readonly Hashtable Kubernetes = new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443" };
    private static readonly Hashtable PodmanEnv = new() { ["container"] = "podman" };
    private static readonly string Short = DockerId[..12];

    private static readonly Dictionary<string, Sample> Samples = new()
    {
        // ---- containers ----
        ["Docker, cgroup v1, cgroupfs driver"] = new(CgroupV1DockerCgroupfs, MountinfoDockerContainer, true,
            new[] { "file:/.dockerenv", $"cgroup:/docker/{Short}", "root-overlay:docker" }, DockerEnv),
        ["Docker, cgroup v1, systemd driver"] = new(CgroupV1DockerSystemd, MountinfoDockerContainer, true,
            new[] { "file:/.dockerenv", $"cgroup:docker-{Short}.scope", "root-overlay:docker" }, DockerEnv),
        ["Docker, cgroup v2, private cgroup namespace"] = new(CgroupV2PrivateNamespace, MountinfoDockerContainer, true,
            new[] { "file:/.dockerenv", "root-overlay:docker" }, DockerEnv),
        ["Docker, cgroup v2, private cgroup namespace, image without /.dockerenv"] = new(CgroupV2PrivateNamespace, MountinfoDockerContainer, true,
            new[] { "root-overlay:docker" }),
        ["Docker, cgroup v2, containerd image store"] = new(CgroupV2PrivateNamespace, MountinfoDockerContainerdStore, true,
            new[] { "file:/.dockerenv", "root-overlay:docker" }, DockerEnv),
        ["Kubernetes, containerd, cgroup v1, cgroupfs driver"] = new(CgroupV1KubernetesCgroupfs, MountinfoKubernetesContainer, true,
            new[] { "cgroup:kubepods", "root-overlay:containerd", "env:KUBERNETES_SERVICE_HOST" }, Env: Kubernetes),
        ["Kubernetes, containerd, cgroup v1, slice:prefix:id paths"] = new(CgroupV1KubernetesSlicePrefixId, MountinfoKubernetesContainer, true,
            new[] { "cgroup:kubepods", $"cgroup:cri-containerd:{ContainerdId[..12]}", "root-overlay:containerd", "env:KUBERNETES_SERVICE_HOST" }, Env: Kubernetes),
        ["Kubernetes, containerd, cgroup v2, systemd slices"] = new(CgroupV2KubernetesSystemd, MountinfoKubernetesContainer, true,
            new[] { "cgroup:kubepods", $"cgroup:cri-containerd-{ContainerdId[..12]}.scope", "root-overlay:containerd", "env:KUBERNETES_SERVICE_HOST" }, Env: Kubernetes),
        ["Kubernetes, containerd, cgroup v2, private cgroup namespace"] = new(CgroupV2PrivateNamespace, MountinfoKubernetesContainer, true,
            new[] { "root-overlay:containerd", "env:KUBERNETES_SERVICE_HOST" }, Env: Kubernetes),
        ["OpenShift, CRI-O, cgroup v1, systemd driver"] = new(CgroupV1CrioSystemd, MountinfoCrioContainer, true,
            new[] { "cgroup:kubepods", $"cgroup:crio-{CrioId[..12]}.scope", "root-overlay:containers-storage", "env:KUBERNETES_SERVICE_HOST" }, Env: Kubernetes),
        ["Podman rootful, cgroup v1, systemd driver"] = new(CgroupV1PodmanSystemd, MountinfoPodmanRootful, true,
            new[] { "file:/run/.containerenv", $"cgroup:libpod-{PodmanId[..12]}.scope", "root-overlay:containers-storage", "env:container=podman" },
            ContainerEnv, PodmanEnv),
        ["Podman rootful, cgroup v2"] = new(CgroupV2PrivateNamespace, MountinfoPodmanRootful, true,
            new[] { "file:/run/.containerenv", "root-overlay:containers-storage", "env:container=podman" }, ContainerEnv, PodmanEnv),
        ["Podman rootless, cgroup v2, home with a space"] = new(CgroupV2PrivateNamespace, MountinfoPodmanRootless, true,
            new[] { "file:/run/.containerenv", "root-overlay:containers-storage", "env:container=podman" }, ContainerEnv, PodmanEnv),
        ["LXC 3, cgroup v1"] = new(CgroupV1Lxc, MountinfoLxdContainer, true,
            new[] { "cgroup:/lxc/web1" }),
        ["LXC 4, cgroup v2, host cgroup namespace"] = new(CgroupV2LxcPayload, MountinfoLxdContainer, true,
            new[] { "cgroup:lxc.payload.web1" }),
        ["LXD, cgroup v2, systemd inside"] = new(CgroupV2InsideLxd, MountinfoLxdContainer, true,
            new[] { "file:/run/systemd/container=lxc" }, new Hashtable { ["/run/systemd/container"] = "lxc\n" }),
        ["this development machine (a sandbox with /.dockerenv)"] = new(CgroupThisMachine, MountinfoThisMachine, true,
            new[] { "file:/.dockerenv" }, DockerEnv),

        // ---- hosts ----
        ["plain laptop"] = new(CgroupV2Laptop, MountinfoLaptop, false, Array.Empty<string>()),
        ["laptop running Docker containers"] = new(CgroupV2Session, MountinfoDockerHost, false, Array.Empty<string>()),
        ["server process in dockerd's cgroup, cgroup v1"] = new(CgroupV1DockerService, MountinfoDockerHost, false, Array.Empty<string>()),
        ["Kubernetes node, kubelet.service, cgroup v2"] = new(CgroupV2Kubelet, MountinfoKubernetesNode, false, Array.Empty<string>()),
        ["Kubernetes node, containerd.service, cgroup v1"] = new(CgroupV1ContainerdService, MountinfoKubernetesNode, false, Array.Empty<string>()),
        ["Ubuntu host running LXD"] = new(CgroupV2LxdDaemon, MountinfoLxdHost, false, Array.Empty<string>()),
        ["user dockeruser"] = new(CgroupV2Session, MountinfoDockeruserHome, false, Array.Empty<string>(),
            Env: new Hashtable { ["HOME"] = "/home/dockeruser", ["USER"] = "dockeruser" }),
        ["live system with an overlay root"] = new(CgroupV2Session, MountinfoLiveSystem, false, Array.Empty<string>()),
        ["WSL 2 with systemd (systemd calls WSL a container)"] = new(CgroupV2Session, MountinfoLaptop, false, Array.Empty<string>(),
            new Hashtable { ["/run/systemd/container"] = "wsl\n" }, Kernel: "5.15.153.1-microsoft-standard-WSL2"),
        ["this development machine without its marker file"] = new(CgroupThisMachine, MountinfoThisMachine, false, Array.Empty<string>()),
    };

    public static TheoryData<string> SampleNames => new(Samples.Keys);

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Detects_containers_and_only_containers(string sample)
    {
        var s = Samples[sample];
        var files = s.MarkerFiles is null ? new Hashtable() : (Hashtable)s.MarkerFiles.Clone();
        if (s.Cgroup != null) files["/proc/self/cgroup"] = s.Cgroup;
        if (s.Mountinfo != null) files["/proc/self/mountinfo"] = s.Mountinfo;

        var p = Facts.Info("Linux", s.Kernel, files: files, env: s.Env);

        Assert.Equal(s.IsContainer, p.IsContainer);
        Assert.Equal(s.Evidence, p.ContainerEvidence);
        Assert.Equal(!s.IsContainer, p.RespawnWorkers);
    }

    [Theory]
    // Container cgroups.
    [InlineData("5:memory:/docker/" + DockerId, "cgroup:/docker/ab380ad31ac8")]
    [InlineData("0::/docker/" + DockerId + "/docker/" + OtherContainerId, "cgroup:/docker/ab380ad31ac8")] // Docker in Docker: the outer one
    [InlineData("0::/system.slice/docker-" + DockerId + ".scope", "cgroup:docker-ab380ad31ac8.scope")]
    [InlineData("0::/libpod_parent/libpod-" + PodmanId, "cgroup:libpod-a46c21aad6ce")]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + PodmanId + ".scope/container", "cgroup:libpod-a46c21aad6ce.scope")]
    [InlineData("0::/system.slice/nerdctl-" + ContainerdId + ".scope", "cgroup:nerdctl-bdb9bbb9bd00.scope")]
    [InlineData("0::/kubepods/besteffort/pod" + PodUid + "/" + ContainerdId, "cgroup:kubepods")]
    [InlineData("0::/kubepods.slice/kubepods-pod" + PodUidSystemd + ".slice/crio-" + CrioId + ".scope", "cgroup:kubepods|cgroup:crio-b54a3a142c33.scope")]
    [InlineData("0::/lxc.payload/web1", "cgroup:lxc.payload/web1")]
    // Host processes: runtimes' own services, their monitors, sessions.
    [InlineData("0::/system.slice/docker.service", "")]
    [InlineData("0::/system.slice/docker.socket", "")]
    [InlineData("0::/system.slice/containerd.service", "")]
    [InlineData("0::/system.slice/kubelet.service", "")]
    [InlineData("0::/system.slice/crio.service", "")]
    [InlineData("0::/system.slice/lxcfs.service", "")]
    [InlineData("0::/system.slice/snap.lxd.daemon.service", "")]
    [InlineData("0::/lxc.monitor.web1", "")]
    [InlineData("0::/machine.slice/libpod-conmon-" + PodmanId + ".scope", "")]
    [InlineData("0::/user.slice/user-1000.slice/session-2.scope", "")]
    [InlineData("0::/user.slice/user-1001.slice/user@1001.service/app.slice/docker-desktop.service", "")]
    [InlineData("0::/system.slice/docker-" + "abc123" + ".scope", "")]     // not a container id
    [InlineData("0::/dockerd/" + DockerId, "")]                             // a segment merely starting with docker
    [InlineData("0::/", "")]
    [InlineData("not a cgroup line", "")]
    public void Cgroup_paths_count_by_whole_segments(string line, string expected)
    {
        Assert.Equal(expected.Length == 0 ? Array.Empty<string>() : expected.Split('|'), CgroupEvidence.Find(line + "\n"));
    }

    [Theory]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC,upperdir=/var/lib/docker/overlay2/x/diff,workdir=/var/lib/docker/overlay2/x/work", "root-overlay:docker")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/home/al/.local/share/docker/overlay2/l/ABC,upperdir=/home/al/.local/share/docker/overlay2/x/diff,workdir=/home/al/.local/share/docker/overlay2/x/work", "root-overlay:docker")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/var/snap/docker/common/var-lib-docker/overlay2/l/ABC", "root-overlay:docker")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs", "root-overlay:containerd")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir+=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs,lowerdir+=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/8/fs", "root-overlay:containerd")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/run/containers/storage/overlay/l/ABC", "root-overlay:containers-storage")]
    [InlineData("1 0 0:1 / / rw shared:1 master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC", "root-overlay:docker")] // optional fields
    // Not evidence: other mount points, other file systems, overlays of something else.
    [InlineData("1 0 0:1 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC", "")]
    [InlineData("1 0 0:1 /var/lib/docker/overlay2/x/merged /mnt rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC", "")]
    [InlineData("1 0 8:1 /var/lib/docker / rw - ext4 /dev/sda1 rw", "")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/run/ostree/.private/cfsroot-lower::/sysroot/ostree/repo/objects", "")]
    [InlineData("1 0 0:1 / / rw - overlay overlay rw,lowerdir=/mnt/docker-images/l/ABC", "")]
    [InlineData("1 0 0:1 / / rw - overlay", "")]
    public void Root_overlay_counts_only_for_the_root_mount_in_runtime_storage(string mountinfo, string expected)
    {
        Assert.Equal(expected.Length == 0 ? null : expected, RootMountEvidence.Find(mountinfo + "\n"));
    }

    [Fact]
    public void The_last_mount_on_root_is_the_one_that_counts()
    {
        const string chrootOverLiveRoot =
            "1 0 0:1 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC\n" +
            "9 1 8:1 / / rw - ext4 /dev/sda1 rw\n";
        Assert.Null(RootMountEvidence.Find(chrootOverLiveRoot));
    }

    [Fact]
    public void Evidence_is_one_entry_per_kind_in_the_order_found()
    {
        var evidence = CgroupEvidence.Find(CgroupV1DockerCgroupfs + CgroupV1DockerSystemd);
        Assert.Equal(new[] { $"cgroup:/docker/{Short}" }, evidence);
    }
}
