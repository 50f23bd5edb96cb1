namespace Serving.Runtime.Tests;

/// <summary>
/// Whole /proc/self/cgroup and /proc/self/mountinfo files as they look inside containers and on hosts
/// that run container runtimes (ids and uuids are random; layouts follow what each runtime makes).
/// </summary>
internal static class ContainerSamples
{
    public const string DockerId = "ab380ad31ac872961c98e709d991d0b3cbdd633fa9ac4a9686528f4b0087d311";
    public const string ContainerdId = "bdb9bbb9bd002e0a4c636d00adfc48f9ccfbd475f09d79f647621c5f55effd8e";
    public const string CrioId = "b54a3a142c33349919c806f4b17f9f796e171f00a8afc2e383b21826c82b4431";
    public const string PodmanId = "a46c21aad6cee85db06ef2c6e78f5398d55a0186564d162ec29f7444ba23772e";
    public const string LayerId = "3285ff6124cc389afdd0d210aa821929018c294b48bdd30c02ce4428eaf01d4a";
    public const string OtherContainerId = "d0765b6eb051d986475e9d88f599fb1cd8308b6c40f3f289ae8de47b29f98b80";
    public const string PodUid = "8721657c-ab02-4997-a216-bc8bf0795ab6";
    public const string PodUidSystemd = "8721657c_ab02_4997_a216_bc8bf0795ab6";

    // ---- cgroup files ----------------------------------------------------------------------------

    /// <summary>Docker on a cgroup v1 host, cgroupfs driver (Ubuntu 18.04/20.04). The unified line stays in
    /// containerd.service on hybrid hosts: that alone is not evidence, the /docker/&lt;id&gt; lines are.</summary>
    public const string CgroupV1DockerCgroupfs = $"""
        12:pids:/docker/{DockerId}
        11:hugetlb:/docker/{DockerId}
        10:net_cls,net_prio:/docker/{DockerId}
        9:perf_event:/docker/{DockerId}
        8:memory:/docker/{DockerId}
        7:freezer:/docker/{DockerId}
        6:cpuset:/docker/{DockerId}
        5:blkio:/docker/{DockerId}
        4:devices:/docker/{DockerId}
        3:cpu,cpuacct:/docker/{DockerId}
        2:rdma:/
        1:name=systemd:/docker/{DockerId}
        0::/system.slice/containerd.service

        """;

    /// <summary>Docker on a cgroup v1 host with native.cgroupdriver=systemd (RHEL/CentOS).</summary>
    public const string CgroupV1DockerSystemd = $"""
        11:cpuset:/system.slice/docker-{DockerId}.scope
        10:memory:/system.slice/docker-{DockerId}.scope
        9:devices:/system.slice/docker-{DockerId}.scope
        8:pids:/system.slice/docker-{DockerId}.scope
        7:hugetlb:/system.slice/docker-{DockerId}.scope
        6:perf_event:/system.slice/docker-{DockerId}.scope
        5:cpu,cpuacct:/system.slice/docker-{DockerId}.scope
        4:blkio:/system.slice/docker-{DockerId}.scope
        3:net_cls,net_prio:/system.slice/docker-{DockerId}.scope
        2:freezer:/system.slice/docker-{DockerId}.scope
        1:name=systemd:/system.slice/docker-{DockerId}.scope

        """;

    /// <summary>cgroup v2 with a private cgroup namespace (Docker, Podman, containerd default): says nothing.</summary>
    public const string CgroupV2PrivateNamespace = "0::/\n";

    /// <summary>Kubernetes pod on a cgroup v1 node, cgroupfs driver (containerd).</summary>
    public const string CgroupV1KubernetesCgroupfs = $"""
        12:hugetlb:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        11:memory:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        10:cpuset:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        9:freezer:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        8:devices:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        7:blkio:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        6:cpu,cpuacct:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        5:pids:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        4:net_cls,net_prio:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        3:perf_event:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        2:rdma:/
        1:name=systemd:/kubepods/burstable/pod{PodUid}/{ContainerdId}
        0::/

        """;

    /// <summary>Kubernetes pod on a cgroup v1 node where containerd got systemd-style paths
    /// (slice:prefix:id) but used the cgroupfs driver: the colon form stays in the path.</summary>
    public const string CgroupV1KubernetesSlicePrefixId = $"""
        11:perf_event:/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        10:blkio:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        9:cpuacct,cpu:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        8:cpuset:/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        7:hugetlb:/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        6:devices:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        5:pids:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        4:memory:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        3:freezer:/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        2:net_cls,net_prio:/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}
        1:name=systemd:/system.slice/containerd.service/kubepods-besteffort-pod{PodUidSystemd}.slice:cri-containerd:{ContainerdId}

        """;

    /// <summary>Kubernetes pod on a cgroup v2 node, systemd driver, host cgroup namespace (containerd).</summary>
    public const string CgroupV2KubernetesSystemd =
        $"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/cri-containerd-{ContainerdId}.scope\n";

    /// <summary>OpenShift / CRI-O pod on a cgroup v1 node, systemd driver.</summary>
    public const string CgroupV1CrioSystemd = $"""
        11:memory:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        10:cpuset:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        9:pids:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        8:cpu,cpuacct:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        7:devices:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        6:blkio:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        5:freezer:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        4:hugetlb:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        3:net_cls,net_prio:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        2:perf_event:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope
        1:name=systemd:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUidSystemd}.slice/crio-{CrioId}.scope

        """;

    /// <summary>Rootful Podman on a cgroup v1 host (RHEL 8), systemd driver.</summary>
    public const string CgroupV1PodmanSystemd = $"""
        12:pids:/machine.slice/libpod-{PodmanId}.scope
        11:memory:/machine.slice/libpod-{PodmanId}.scope
        10:cpu,cpuacct:/machine.slice/libpod-{PodmanId}.scope
        9:blkio:/machine.slice/libpod-{PodmanId}.scope
        8:devices:/machine.slice/libpod-{PodmanId}.scope
        7:freezer:/machine.slice/libpod-{PodmanId}.scope
        6:cpuset:/machine.slice/libpod-{PodmanId}.scope
        5:hugetlb:/machine.slice/libpod-{PodmanId}.scope
        4:perf_event:/machine.slice/libpod-{PodmanId}.scope
        3:net_cls,net_prio:/machine.slice/libpod-{PodmanId}.scope
        2:rdma:/
        1:name=systemd:/machine.slice/libpod-{PodmanId}.scope

        """;

    /// <summary>LXC 3 on a cgroup v1 host (no cgroup namespace).</summary>
    public const string CgroupV1Lxc = """
        12:pids:/lxc/web1
        11:memory:/lxc/web1
        10:cpuset:/lxc/web1
        9:devices:/lxc/web1
        8:freezer:/lxc/web1
        7:blkio:/lxc/web1
        6:cpu,cpuacct:/lxc/web1
        5:net_cls,net_prio:/lxc/web1
        4:perf_event:/lxc/web1
        3:hugetlb:/lxc/web1
        2:rdma:/lxc/web1
        1:name=systemd:/lxc/web1/system.slice/serving.service
        0::/lxc/web1/system.slice/serving.service

        """;

    /// <summary>LXC 4+ on a cgroup v2 host seen from the host's cgroup namespace.</summary>
    public const string CgroupV2LxcPayload = "0::/lxc.payload.web1/system.slice/serving.service\n";

    /// <summary>A service inside an LXD container with its own cgroup namespace: nothing container-like.</summary>
    public const string CgroupV2InsideLxd = "0::/system.slice/serving.service\n";

    /// <summary>An Ubuntu laptop: a terminal in a GNOME session.</summary>
    public const string CgroupV2Laptop =
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-0adb3998-f7df-4e19-954c-cc235d23387a.scope\n";

    /// <summary>A login session on a server.</summary>
    public const string CgroupV2Session = "0::/user.slice/user-1000.slice/session-2.scope\n";

    /// <summary>A host process started by dockerd's own unit (cgroup v1): the daemon's cgroups, not a container's.</summary>
    public const string CgroupV1DockerService = """
        12:pids:/system.slice/docker.service
        11:memory:/system.slice/docker.service
        10:cpu,cpuacct:/system.slice/docker.service
        9:blkio:/system.slice/docker.service
        8:devices:/system.slice/docker.service
        7:freezer:/
        6:cpuset:/
        5:hugetlb:/
        4:perf_event:/
        3:net_cls,net_prio:/
        2:rdma:/
        1:name=systemd:/system.slice/docker.service
        0::/system.slice/docker.service

        """;

    /// <summary>A Kubernetes node's host processes: containerd (cgroup v1).</summary>
    public const string CgroupV1ContainerdService = """
        12:pids:/system.slice/containerd.service
        11:memory:/system.slice/containerd.service
        10:cpu,cpuacct:/system.slice/containerd.service
        9:blkio:/system.slice/containerd.service
        8:devices:/system.slice/containerd.service
        7:freezer:/
        6:cpuset:/
        5:hugetlb:/
        4:perf_event:/
        3:net_cls,net_prio:/
        2:rdma:/
        1:name=systemd:/system.slice/containerd.service
        0::/system.slice/containerd.service

        """;

    public const string CgroupV2Kubelet = "0::/system.slice/kubelet.service\n";

    public const string CgroupV2LxdDaemon = "0::/system.slice/snap.lxd.daemon.service\n";

    /// <summary>This development machine: a sandbox with its own memory cgroup but no runtime names.</summary>
    public const string CgroupThisMachine = """
        9:name=systemd:/
        8:pids:/
        7:blkio:/
        6:freezer:/
        5:devices:/
        4:memory:/process_api/f856644a5d3b6299b94bae53fe1da2a8
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/

        """;

    // ---- mountinfo files -------------------------------------------------------------------------

    /// <summary>Inside a Docker container (overlay2 storage driver).</summary>
    public const string MountinfoDockerContainer = $"""
        614 536 0:57 / / rw,relatime master:313 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/3QGJY4TJXVD3K2V7MEO2Z5PS6Z:/var/lib/docker/overlay2/l/WZ2JE5KHLJ2S4DH3VXRJ2XD7RA:/var/lib/docker/overlay2/l/B3ZJ5HKDOJ3WQ6BRS5PLLZBFPZ,upperdir=/var/lib/docker/overlay2/{LayerId}/diff,workdir=/var/lib/docker/overlay2/{LayerId}/work
        615 614 0:60 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        616 614 0:61 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
        617 616 0:62 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
        618 614 0:63 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
        619 618 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot
        620 616 0:59 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
        621 616 0:64 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
        622 614 259:2 /var/lib/docker/containers/{DockerId}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        623 614 259:2 /var/lib/docker/containers/{DockerId}/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        624 614 259:2 /var/lib/docker/containers/{DockerId}/hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        537 615 0:60 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
        538 615 0:65 / /proc/acpi ro,relatime - tmpfs tmpfs ro
        539 615 0:61 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755

        """;

    /// <summary>Inside a Docker container whose engine uses the containerd image store (Docker 24+ option).</summary>
    public const string MountinfoDockerContainerdStore = $"""
        1201 1150 0:88 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/23/fs:/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/22/fs,upperdir=/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/31/fs,workdir=/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/31/work
        1202 1201 0:91 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        1203 1201 0:92 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
        1204 1201 259:2 /var/lib/docker/containers/{DockerId}/hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p2 rw

        """;

    /// <summary>Inside a Kubernetes pod's container (containerd's overlayfs snapshotter).</summary>
    public const string MountinfoKubernetesContainer = $"""
        2050 1990 0:231 / / rw,relatime master:701 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs:/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/work
        2051 2050 0:233 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        2052 2050 0:234 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
        2053 2050 0:235 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
        2054 2052 8:1 /var/lib/kubelet/pods/{PodUid}/containers/serving/5ac1a3b7 /dev/termination-log rw,relatime - ext4 /dev/sda1 rw
        2055 2050 8:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{OtherContainerId}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw
        2056 2050 8:1 /var/lib/kubelet/pods/{PodUid}/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
        2057 2052 0:222 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
        2058 2050 0:220 / /run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=178152k

        """;

    /// <summary>Inside an OpenShift / CRI-O container (containers/storage).</summary>
    public const string MountinfoCrioContainer = $"""
        3301 3200 0:412 / / rw,relatime - overlay overlay rw,context="system_u:object_r:container_file_t:s0:c12,c27",lowerdir=/var/lib/containers/storage/overlay/l/4HCX3DJYB3KZHYO4MWFDFZZJ6D:/var/lib/containers/storage/overlay/l/PHX7N6O4PDQOKIQA2W5GBY3TOZ,upperdir=/var/lib/containers/storage/overlay/{LayerId}/diff,workdir=/var/lib/containers/storage/overlay/{LayerId}/work,metacopy=on
        3302 3301 0:415 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        3303 3301 0:416 / /dev rw,nosuid - tmpfs tmpfs rw,context="system_u:object_r:container_file_t:s0:c12,c27",size=65536k,mode=755
        3304 3301 0:26 /containers/storage/overlay-containers/{CrioId}/userdata/resolv.conf /etc/resolv.conf rw,nosuid,nodev - tmpfs tmpfs rw,seclabel,mode=755

        """;

    /// <summary>Inside a rootful Podman container (containers/storage, SELinux context in the options).</summary>
    public const string MountinfoPodmanRootful = $"""
        1024 980 0:101 / / rw,relatime - overlay overlay rw,context="system_u:object_r:container_file_t:s0:c1022,c1023",lowerdir=/var/lib/containers/storage/overlay/l/Q4ZJYWUGNCZK5OJIBJ3EXBKPU6,upperdir=/var/lib/containers/storage/overlay/{LayerId}/diff,workdir=/var/lib/containers/storage/overlay/{LayerId}/work,metacopy=on,volatile
        1025 1024 0:104 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        1026 1024 0:105 / /dev rw,nosuid - tmpfs tmpfs rw,context="system_u:object_r:container_file_t:s0:c1022,c1023",size=65536k,mode=755
        1027 1024 0:26 /containers/overlay-containers/{PodmanId}/userdata/.containerenv /run/.containerenv rw,nosuid,nodev - tmpfs tmpfs rw,seclabel,mode=755

        """;

    /// <summary>Inside a rootless Podman container (storage under the user's home, which has a space in it).</summary>
    public const string MountinfoPodmanRootless = $"""
        700 650 0:61 / / rw,relatime - overlay overlay rw,lowerdir=/home/Jane\040Doe/.local/share/containers/storage/overlay/l/ZP4HXXN6QMU2E3ML4BUNFIKV3C,upperdir=/home/Jane\040Doe/.local/share/containers/storage/overlay/{LayerId}/diff,workdir=/home/Jane\040Doe/.local/share/containers/storage/overlay/{LayerId}/work,userxattr
        701 700 0:64 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        702 700 0:65 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755,uid=1000,gid=1000,inode64
        703 700 0:42 /containers/overlay-containers/{PodmanId}/userdata/.containerenv /run/.containerenv rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=1611040k,nr_inodes=402760,mode=700,uid=1000,gid=1000,inode64

        """;

    /// <summary>Inside an LXD container on a dir storage pool: the root is a bind mount, not an overlay.</summary>
    public const string MountinfoLxdContainer = """
        1380 1250 259:2 /var/snap/lxd/common/lxd/storage-pools/default/containers/web1/rootfs / rw,relatime shared:612 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        1381 1380 0:78 / /dev rw,relatime shared:613 - tmpfs none rw,size=492k,mode=755,uid=1000000,gid=1000000,inode64
        1382 1380 0:80 / /proc rw,nosuid,nodev,noexec,relatime shared:614 - proc proc rw
        1383 1382 0:74 /proc/cpuinfo /proc/cpuinfo rw,nosuid,nodev,relatime shared:615 - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other

        """;

    /// <summary>An Ubuntu laptop: ext4 root, snaps, an EFI partition.</summary>
    public const string MountinfoLaptop = """
        24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        25 29 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
        26 29 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8014812k,nr_inodes=2003703,mode=755,inode64
        28 29 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1611040k,mode=755,inode64
        29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        90 29 7:1 / /snap/core22/1380 ro,nodev,relatime shared:40 - squashfs /dev/loop1 ro,errors=continue
        93 29 7:2 / /snap/firefox/4173 ro,nodev,relatime shared:42 - squashfs /dev/loop2 ro,errors=continue
        99 29 259:1 / /boot/efi rw,relatime shared:52 - vfat /dev/nvme0n1p1 rw,fmask=0077,dmask=0077,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro
        1501 28 0:62 / /run/user/1000 rw,nosuid,nodev,relatime shared:788 - tmpfs tmpfs rw,size=1611036k,nr_inodes=402759,mode=700,uid=1000,gid=1000,inode64

        """;

    /// <summary>A laptop running Docker: its containers' overlays, shm and network namespaces are mounted
    /// on the host, below /var/lib/docker and /run/docker.</summary>
    public const string MountinfoDockerHost = $"""
        29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        25 29 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
        28 29 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1611040k,mode=755,inode64
        35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        612 29 0:57 / /var/lib/docker/overlay2/{LayerId}/merged rw,relatime shared:313 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/3QGJY4TJXVD3K2V7MEO2Z5PS6Z:/var/lib/docker/overlay2/l/WZ2JE5KHLJ2S4DH3VXRJ2XD7RA,upperdir=/var/lib/docker/overlay2/{LayerId}/diff,workdir=/var/lib/docker/overlay2/{LayerId}/work
        640 28 0:4 net:[4026532716] /run/docker/netns/5b2e4a1c9f3d rw shared:330 - nsfs nsfs rw
        651 29 0:58 / /var/lib/docker/containers/{DockerId}/mounts/shm rw,nosuid,nodev,noexec,relatime shared:336 - tmpfs shm rw,size=65536k,inode64
        700 28 0:4 net:[4026532801] /run/docker/netns/default rw shared:345 - nsfs nsfs rw

        """;

    /// <summary>A Kubernetes node (containerd): pod root file systems, sandboxes' shm, projected volumes, CNI netns.</summary>
    public const string MountinfoKubernetesNode = $"""
        30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,discard,errors=remount-ro
        26 30 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=805432k,mode=755,inode64
        812 26 0:4 net:[4026532411] /run/netns/cni-5741ac15-3d76-4fbd-9ee4-c8dc5f21847f rw shared:420 - nsfs nsfs rw
        830 26 0:81 / /run/containerd/io.containerd.grpc.v1.cri/sandboxes/{OtherContainerId}/shm rw,nosuid,nodev,noexec,relatime shared:431 - tmpfs shm rw,size=65536k,inode64
        845 26 0:83 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/{OtherContainerId}/rootfs rw,relatime shared:437 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/48/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/48/work
        861 26 0:85 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/{ContainerdId}/rootfs rw,relatime shared:447 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/work
        870 30 0:86 / /var/lib/kubelet/pods/{PodUid}/volumes/kubernetes.io~projected/kube-api-access-7xq2k rw,relatime shared:452 - tmpfs tmpfs rw,size=178152k,inode64

        """;

    /// <summary>An Ubuntu host running LXD: lxcfs, the snap's namespaces and storage pool.</summary>
    public const string MountinfoLxdHost = """
        29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        28 29 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1611040k,mode=755,inode64
        120 29 0:52 / /var/lib/lxcfs rw,nosuid,nodev,relatime shared:60 - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other
        131 29 7:5 / /snap/lxd/27037 ro,nodev,relatime shared:66 - squashfs /dev/loop5 ro,errors=continue
        410 28 0:25 /snapd/ns /run/snapd/ns rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1611040k,mode=755,inode64
        422 410 0:4 mnt:[4026532590] /run/snapd/ns/lxd.mnt rw - nsfs nsfs rw
        455 29 0:60 / /var/snap/lxd/common/ns rw,relatime - tmpfs tmpfs rw,size=1024k,mode=700,inode64
        470 29 259:2 /var/snap/lxd/common/lxd/storage-pools/default /var/snap/lxd/common/lxd/storage-pools/default rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro

        """;

    /// <summary>A user named dockeruser whose encrypted home is mounted on login.</summary>
    public const string MountinfoDockeruserHome = """
        29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        28 29 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1611040k,mode=755,inode64
        1502 29 259:2 /home/.ecryptfs/dockeruser/.Private /home/dockeruser rw,nosuid,nodev,relatime shared:790 - ecryptfs /home/.ecryptfs/dockeruser/.Private rw,ecryptfs_sig=1b2c3d4e5f607182,ecryptfs_cipher=aes,ecryptfs_key_bytes=16,ecryptfs_unlink_sigs
        1510 1502 0:70 / /home/dockeruser/kubepods-notes rw,nosuid,nodev,relatime shared:795 - fuse.sshfs dockeruser@nas:/srv/lxc rw,user_id=1001,group_id=1001

        """;

    /// <summary>A Debian live system: the root is an overlay, but over the live medium, not a runtime's storage.</summary>
    public const string MountinfoLiveSystem = """
        24 1 0:26 / / rw,noatime - overlay overlay rw,lowerdir=/run/live/rootfs/filesystem.squashfs/,upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work
        25 24 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 24 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        31 30 11:0 / /run/live/medium ro,noatime shared:17 - iso9660 /dev/sr0 ro,nojoliet,check=s,map=n,blocksize=2048,iocharset=utf8
        32 30 7:0 / /run/live/rootfs/filesystem.squashfs ro,noatime shared:18 - squashfs /dev/loop0 ro,errors=continue

        """;

    /// <summary>This development machine: an ext4 root on a virtual disk.</summary>
    public const string MountinfoThisMachine = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
        24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334492k,nr_inodes=3083623,mode=755
        25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
        26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,errors=remount-ro

        """;
}
