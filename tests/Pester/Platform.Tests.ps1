BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Get-ServingPlatform on this machine' {
    It 'returns one Serving.Runtime.Platform.PlatformInfo with every documented property' {
        $p = Get-ServingPlatform
        @($p).Count | Should -Be 1
        $p.PSObject.TypeNames[0] | Should -Be 'Serving.Runtime.Platform.PlatformInfo'
        foreach ($name in 'OS', 'KernelRelease', 'Architecture', 'IsWsl', 'WslVersion', 'IsContainer', 'ContainerEvidence',
            'ProcessorCount', 'SupportsUnixSockets', 'MaxUnixSocketPath', 'TempDirectory', 'RunnerTransport',
            'GrpcProduction', 'GrpcReason', 'RespawnWorkers') {
            $p.PSObject.Properties.Name | Should -Contain $name
        }
        $p.MaxUnixSocketPath | Should -Be 103
        $p.ProcessorCount | Should -BeGreaterThan 0
    }

    It 'detects that this machine is a container (/.dockerenv) and so does not respawn by default' -Skip:(-not (Test-Path '/.dockerenv')) {
        $p = Get-ServingPlatform
        $p.IsContainer | Should -BeTrue
        $p.ContainerEvidence | Should -Contain 'file:/.dockerenv'
        $p.RespawnWorkers | Should -BeFalse
    }

    It 'honours SERVING_CONTAINERIZED=false over the evidence' {
        $saved = $env:SERVING_CONTAINERIZED
        try {
            $env:SERVING_CONTAINERIZED = 'false'
            $p = Get-ServingPlatform
            $p.IsContainer | Should -BeFalse
            $p.ContainerEvidence | Should -Contain 'env:SERVING_CONTAINERIZED=false'
            $p.RespawnWorkers | Should -BeTrue
        }
        finally { $env:SERVING_CONTAINERIZED = $saved }
    }

    It 'rejects a SERVING_CONTAINERIZED value that is neither true nor false' {
        $saved = $env:SERVING_CONTAINERIZED
        try {
            $env:SERVING_CONTAINERIZED = 'maybe'
            Get-ErrorId { Get-ServingPlatform } | Should -BeLike 'InvalidContainerOverride,*'
        }
        finally { $env:SERVING_CONTAINERIZED = $saved }
    }

    It 'shows reloader output on every OS, assumed Windows included (the seed''s system hides it there)' {
        (Get-ServingPlatform).ReloaderOutputVisible | Should -BeTrue
        (Get-ServingPlatform -Assume @{ OS = 'Windows' }).ReloaderOutputVisible | Should -BeTrue
        (Get-Command Start-ServingHost).Parameters.Keys | Should -Contain 'Reload'
    }

    It 'formats as a table and a list' {
        $table = Get-ServingPlatform | Format-Table | Out-String
        $table | Should -Match 'RunnerTransport'
        $list = Get-ServingPlatform | Format-List | Out-String
        $list | Should -Match 'ContainerEvidence'
        $list | Should -Match 'GrpcReason'
    }
}

Describe 'Get-ServingPlatform -Assume (the seed rules on assumed facts)' {
    It 'Linux native: Unix domain sockets, gRPC allowed' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; KernelRelease = '6.1.0-13-amd64' }
        $p.RunnerTransport | Should -Be 'Uds'
        $p.GrpcProduction | Should -Be 'Allowed'
        $p.IsWsl | Should -BeFalse
        $p.IsAssumed | Should -BeTrue
    }

    It 'WSL (microsoft-standard in the kernel release) uses TCP runners' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; KernelRelease = '5.15.153.1-microsoft-standard-WSL2' }
        $p.IsWsl | Should -BeTrue
        $p.WslVersion | Should -Be 2
        $p.RunnerTransport | Should -Be 'Tcp'
    }

    It 'WSL 1 (Microsoft in the kernel release, missed by the seed check) is detected too' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; KernelRelease = '4.4.0-19041-Microsoft' }
        $p.WslVersion | Should -Be 1
        $p.RunnerTransport | Should -Be 'Tcp'
    }

    It 'Windows uses TCP runners and denies production gRPC, naming SO_REUSEPORT' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Windows'; KernelRelease = '10.0.22631' }
        $p.RunnerTransport | Should -Be 'Tcp'
        $p.SupportsUnixSockets | Should -BeFalse
        $p.GrpcProduction | Should -Be 'Denied'
        $p.GrpcReason | Should -Match 'SO_REUSEPORT'
    }

    It 'macOS and FreeBSD gRPC gets a warning (SO_REUSEPORT)' -TestCases @(@{ OS = 'MacOS' }, @{ OS = 'FreeBSD' }) {
        param($OS)
        $p = Get-ServingPlatform -Assume @{ OS = $OS }
        $p.RunnerTransport | Should -Be 'Uds'
        $p.GrpcProduction | Should -Be 'Warning'
        $p.GrpcReason | Should -Match 'SO_REUSEPORT'
    }

    It 'container detection: no worker respawn inside containers' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{ '/proc/self/cgroup' = '0::/kubepods/burstable/pod1/abc' } }
        $p.IsContainer | Should -BeTrue
        $p.ContainerEvidence | Should -Contain 'cgroup:kubepods'
        $p.RespawnWorkers | Should -BeFalse
    }

    It 'container detection: evidence inside a container says what it is' {
        $id = 'ab380ad31ac872961c98e709d991d0b3cbdd633fa9ac4a9686528f4b0087d311'
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{
                '/proc/self/cgroup'    = "0::/system.slice/docker-$id.scope`n"
                '/proc/self/mountinfo' = "614 536 0:57 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/3QGJ,upperdir=/var/lib/docker/overlay2/$id/diff,workdir=/var/lib/docker/overlay2/$id/work`n"
            } }
        $p.IsContainer | Should -BeTrue
        $p.ContainerEvidence | Should -Be @('cgroup:docker-ab380ad31ac8.scope', 'root-overlay:docker')
    }

    # Issue 13: each of these real host lines made a laptop or server "a container" (API on 0.0.0.0, no respawn).
    It 'container detection: a host running Docker, containerd or LXD is not a container (<Line>)' -TestCases @(
        @{ Line = '612 29 0:57 / /var/lib/docker/overlay2/3285ff6124cc/merged rw,relatime shared:313 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/3QGJ,upperdir=/var/lib/docker/overlay2/3285ff6124cc/diff,workdir=/var/lib/docker/overlay2/3285ff6124cc/work' }
        @{ Line = '640 28 0:4 net:[4026532716] /run/docker/netns/5b2e4a1c9f3d rw shared:330 - nsfs nsfs rw' }
        @{ Line = '845 26 0:83 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/bdb9bbb9bd00/rootfs rw,relatime shared:437 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs' }
        @{ Line = '120 29 0:52 / /var/lib/lxcfs rw,nosuid,nodev,relatime shared:60 - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other' }
        @{ Line = '1502 29 259:2 /home/.ecryptfs/dockeruser/.Private /home/dockeruser rw,nosuid,nodev,relatime shared:790 - ecryptfs /home/.ecryptfs/dockeruser/.Private rw' }
    ) {
        param($Line)
        $mountinfo = "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw`n$Line`n"
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{ '/proc/self/mountinfo' = $mountinfo; '/proc/self/cgroup' = "0::/system.slice/docker.service`n" } }
        $p.IsContainer | Should -BeFalse
        $p.ContainerEvidence | Should -BeNullOrEmpty
        $p.RespawnWorkers | Should -BeTrue
        (Get-ServingPlan -Platform $p).HostAddress | Should -Be '127.0.0.1'
    }

    It 'an assumed file the rules do not read is an InvalidAssumption error naming the files they read' {
        $err = $null
        try { Get-ServingPlatform -Assume @{ OS = 'Linux'; Files = @{ '/proc/1/cgroup' = '0::/' } } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidAssumption,*'
        $err.Exception.Message | Should -Match '/proc/self/cgroup'
    }

    It 'assumes nothing it is not given (no /.dockerenv probed from this machine)' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux' }
        $p.IsContainer | Should -BeFalse
        $p.ContainerEvidence | Should -BeNullOrEmpty
        $p.RespawnWorkers | Should -BeTrue
    }

    It 'caps ProcessorCount by a cgroup CPU quota' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Linux'; ProcessorCount = 8; CpuQuota = '200000 100000' }
        $p.ProcessorCount | Should -Be 2
        $p.CpuLimit | Should -Be 2
    }

    It 'an unknown OS is reported as unsupported, naming what was detected' {
        $p = Get-ServingPlatform -Assume @{ OS = 'Plan9' }
        $p.IsSupported | Should -BeFalse
        $p.UnsupportedReason | Should -Match 'Plan9'
    }

    It 'an unknown key is a terminating error listing the valid keys' {
        $err = $null
        try { Get-ServingPlatform -Assume @{ Kernel = '6.1' } } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidAssumption,*'
        $err.Exception.Message | Should -Match 'KernelRelease'
        $err.Exception.Message | Should -Match 'TempDirectory'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}
