@{
    Synopsis    = 'Shows what this machine supports for serving and what the host will choose on it.'
    Description = @'
Probes the operating system, kernel release, WSL version, container evidence and CPU quota, and applies
the platform rules: Unix domain sockets for runner IPC on POSIX, TCP on 127.0.0.1 on Windows and WSL;
no production gRPC on Windows (it needs SO_REUSEPORT) and a warning on macOS and FreeBSD; no worker
respawn inside a container (the orchestrator restarts it); Unix socket paths of at most 103 characters.

A container is recognised only by evidence of being inside one, and ContainerEvidence lists each
piece found: file:/.dockerenv, file:/run/.containerenv, file:/run/systemd/container=<type>; cgroup
paths of this process whose segments name a container (cgroup:/docker/<id>, cgroup:docker-<id>.scope,
cgroup:kubepods, cgroup:lxc.payload.<name>, ...); a root file system that is an overlay in a runtime's
image storage (root-overlay:docker, root-overlay:containerd, root-overlay:containers-storage);
env:KUBERNETES_SERVICE_HOST, env:DOTNET_RUNNING_IN_CONTAINER, env:container=<kind>. A machine that runs
Docker, containerd or LXD is not a container. SERVING_CONTAINERIZED=true|false overrides either way
(env:SERVING_CONTAINERIZED=... is then listed last).

With -Assume the same rules are applied to the facts you give and nothing is probed, so you can see
what the host would do on another platform.
'@
    Parameters  = @{
        Assume = @'
Facts to assume instead of probing this machine. Keys: OS (Linux, Windows, MacOS, FreeBSD or anything
else for an unsupported OS), KernelRelease, Architecture, Environment (a hashtable of environment
variables), Files (a hashtable of path = content for the files the probe reads: /.dockerenv,
/run/.containerenv, /run/systemd/container, /proc/self/cgroup, /proc/self/mountinfo,
/sys/fs/cgroup/cpu.max, /sys/fs/cgroup/cpu/cpu.cfs_quota_us, /sys/fs/cgroup/cpu/cpu.cfs_period_us),
ProcessorCount, CpuQuota ('quota period' as in cgroup v2 cpu.max) and TempDirectory. A fact you do not
give is absent. An unknown key, or a file the probe does not read, is an error (InvalidAssumption)
that lists the valid ones.
'@
    }
    Defaults    = @{
        Assume = @{ Text = 'None: this machine is probed' }
    }
    Outputs     = @{
        PlatformInfo = 'The facts found (OS, kernel, WSL, container evidence, processor count, CPU quota) and the decisions taken on them (runner transport, production gRPC, respawn).'
    }
    Examples    = @(
        @{ Code = 'Get-ServingPlatform | Format-List'; Remarks = 'Shows every fact and decision for this machine.' }
        @{ Code = "Get-ServingPlatform -Assume @{ OS = 'Linux'; KernelRelease = '5.15.90.1-microsoft-standard-WSL2' }"; Remarks = 'What the host does under WSL 2: runners over TCP on 127.0.0.1.' }
        @{ Code = "Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' }; ProcessorCount = 16; CpuQuota = '200000 100000' }"; Remarks = 'Inside a container with a 2-CPU quota: IsContainer is true, RespawnWorkers false, ProcessorCount 2.' }
        @{ Code = "Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{ '/proc/self/cgroup' = '0::/system.slice/docker.service' } }"; Remarks = 'A host process in dockerd''s own cgroup is not in a container: IsContainer is false.' }
    )
}
