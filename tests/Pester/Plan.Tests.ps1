BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Get-ServingPlan for the demo service' {
    It 'plans the demo service with its two runners on this machine' {
        $plan = Get-ServingPlan -HostAddress 127.0.0.1
        $plan.PSObject.TypeNames[0] | Should -Be 'Serving.Runtime.Planning.HostPlan'
        $plan.Service | Should -Be 'demo'
        $plan.Protocol | Should -Be 'Http'
        $plan.Mode | Should -Be 'Production'
        $plan.Port | Should -Be 3000
        $plan.Url | Should -Be 'http://127.0.0.1:3000'
        $plan.ApiWorkers | Should -Be (Get-ServingPlatform).ProcessorCount
        $plan.Runners.Name | Should -Be @('echo', 'classifier')
    }

    It 'changes nothing on the machine (no socket directory is created)' {
        $plan = Get-ServingPlan -WarningAction SilentlyContinue
        $plan.SocketDirectory | Should -Not -BeNullOrEmpty
        Test-Path $plan.SocketDirectory | Should -BeFalse
    }

    It 'Unix socket runners on Linux live in a fresh directory, one socket per runner' {
        $plan = Get-ServingPlan -Assume @{ OS = 'Linux'; TempDirectory = '/tmp' }
        $plan.Transport | Should -Be 'Uds'
        $plan.SocketDirectory | Should -Match '^/tmp/serving-[0-9a-f]{8}$'
        $plan.Runners[0].Endpoint | Should -Be "$($plan.SocketDirectory)/echo.sock"
        $plan.Runners[1].Endpoint | Should -Be "$($plan.SocketDirectory)/classifier.sock"
    }

    It 'WSL runners use TCP on 127.0.0.1' {
        $plan = Get-ServingPlan -Assume @{ OS = 'Linux'; KernelRelease = '5.15.90.1-microsoft-standard-WSL2' }
        $plan.Transport | Should -Be 'Tcp'
        $plan.Runners.Endpoint | Should -Be @('127.0.0.1:0', '127.0.0.1:0')
        $plan.SocketDirectory | Should -BeNullOrEmpty
    }

    It 'Windows runners use TCP on 127.0.0.1' {
        (Get-ServingPlan -Assume @{ OS = 'Windows' }).Transport | Should -Be 'Tcp'
    }

    It 'no production gRPC on Windows without -Development (GrpcRequiresReusePort names SO_REUSEPORT and -Development)' {
        $err = $null
        try { Get-ServingPlan -Assume @{ OS = 'Windows' } -Protocol Grpc } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'GrpcRequiresReusePort,*'
        $err.Exception.Message | Should -Match 'SO_REUSEPORT'
        $err.Exception.Message | Should -Match '-Development'
    }

    It 'gRPC on Windows with -Development is allowed' {
        $plan = Get-ServingPlan -Assume @{ OS = 'Windows' } -Protocol Grpc -Development
        $plan.Mode | Should -Be 'Development'
        $plan.ApiWorkers | Should -Be 1
        $plan.Transport | Should -Be 'InProcess'
    }

    It 'macOS/FreeBSD gRPC writes a warning naming SO_REUSEPORT and recommending a Linux container' -TestCases @(@{ OS = 'MacOS' }, @{ OS = 'FreeBSD' }) {
        param($OS)
        $plan = Get-ServingPlan -Assume @{ OS = $OS } -Protocol Grpc -WarningVariable warnings -WarningAction SilentlyContinue
        $plan | Should -Not -BeNullOrEmpty
        @($warnings).Count | Should -Be 1
        "$warnings" | Should -Match 'SO_REUSEPORT'
        "$warnings" | Should -Match 'Linux container'
    }

    It 'no gRPC warning on Linux' {
        $null = Get-ServingPlan -Assume @{ OS = 'Linux' } -Protocol Grpc -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
    }

    It '-Transport overrides the platform default' {
        (Get-ServingPlan -Assume @{ OS = 'Linux' } -Transport Tcp).Transport | Should -Be 'Tcp'
        (Get-ServingPlan -Assume @{ OS = 'Linux'; KernelRelease = '5.15-microsoft-standard-WSL2' } -Transport Uds).Transport | Should -Be 'Uds'
    }

    It '-Transport Uds on Windows is an error' {
        Get-ErrorId { Get-ServingPlan -Assume @{ OS = 'Windows' } -Transport Uds } | Should -BeLike 'UnixSocketsUnsupported,*'
    }

    It 'the 103-character Unix socket path limit: a long temp dir is shortened, never exceeded' {
        $long = '/var/folders/' + ('x' * 137)
        $plan = Get-ServingPlan -Assume @{ OS = 'MacOS'; TempDirectory = $long }
        foreach ($r in $plan.Runners) { $r.Endpoint.Length | Should -BeLessOrEqual 103 }
        $plan.SocketDirectory | Should -BeLike '/tmp/sv-*'
    }

    It 'the 103-character Unix socket path limit: UnixSocketPathTooLong names the path, its length, the limit and the fixes' {
        $dir = '/' + ('d' * 110)
        $err = $null
        try { Get-ServingPlan -Assume @{ OS = 'Linux' } -SocketDirectory $dir } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'UnixSocketPathTooLong,*'
        $err.Exception.Message | Should -Match ([regex]::Escape($dir))
        $err.Exception.Message | Should -Match '103'
        $err.Exception.Message | Should -Match '-SocketDirectory'
        $err.Exception.Message | Should -Match '-Transport Tcp'
    }

    It 'no worker respawn inside containers: Auto follows the container rule, Always overrides' {
        $container = @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' } }
        (Get-ServingPlan -Assume $container -WarningAction SilentlyContinue).Respawn | Should -BeFalse
        (Get-ServingPlan -Assume $container -Respawn Always -WarningAction SilentlyContinue).Respawn | Should -BeTrue
        (Get-ServingPlan -Assume @{ OS = 'Linux' }).Respawn | Should -BeTrue
        (Get-ServingPlan -Assume @{ OS = 'Linux' } -Respawn Never).Respawn | Should -BeFalse
    }

    It 'ApiWorkers defaults to the cgroup-aware processor count' {
        (Get-ServingPlan -Assume @{ OS = 'Linux'; ProcessorCount = 16; CpuQuota = '150000 100000' }).ApiWorkers | Should -Be 2
        (Get-ServingPlan -Assume @{ OS = 'Linux'; ProcessorCount = 4 } -ApiWorkers 3).ApiWorkers | Should -Be 3
    }

    It 'binds all interfaces by default inside a container, loopback outside' {
        (Get-ServingPlan -Assume @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' } } -WarningAction SilentlyContinue).HostAddress | Should -Be '0.0.0.0'
        (Get-ServingPlan -Assume @{ OS = 'Linux' }).HostAddress | Should -Be '127.0.0.1'
    }

    It 'warns when the default address opens the API to all interfaces inside a container, naming the evidence and -HostAddress 127.0.0.1' {
        $plan = Get-ServingPlan -Assume @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' } } -WarningVariable warnings -WarningAction SilentlyContinue
        $plan.HostAddress | Should -Be '0.0.0.0'
        @($warnings).Count | Should -Be 1
        "$warnings" | Should -Match 'all interfaces'
        "$warnings" | Should -Match 'file:/\.dockerenv'
        "$warnings" | Should -Match '-HostAddress 127\.0\.0\.1'
        $plan.Warnings | Should -Be @("$warnings")
    }

    It 'no address warning when -HostAddress is given, or outside a container' {
        $null = Get-ServingPlan -Assume @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' } } -HostAddress 0.0.0.0 -WarningVariable given
        $given | Should -BeNullOrEmpty
        $null = Get-ServingPlan -Assume @{ OS = 'Linux' } -WarningVariable outside
        $outside | Should -BeNullOrEmpty
    }

    It '-Verbose explains how the address and respawn were chosen' {
        $verbose = Get-ServingPlan -Assume @{ OS = 'Linux'; Environment = @{ KUBERNETES_SERVICE_HOST = '10.96.0.1' } } -Verbose -WarningAction SilentlyContinue 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $verbose.Message | Should -Be @(
            'Listen address 0.0.0.0 (all interfaces): -HostAddress was not given and this is a container (evidence: env:KUBERNETES_SERVICE_HOST); a loopback address could not be reached through the container''s published port.'
            'Respawn off: -Respawn Auto and this is a container (evidence: env:KUBERNETES_SERVICE_HOST); crashed workers are not restarted here: a worker that exits ends the host (Failed, exit code 1 under -Wait), so the container''s orchestrator restarts it. -Respawn Always overrides.'
        )
        $outside = Get-ServingPlan -Assume @{ OS = 'Linux' } -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $outside[0].Message | Should -Match '^Listen address 127\.0\.0\.1 \(this machine only\).*no container evidence found'
    }

    It 'Start-ServingHost writes the same explanations and warning as Get-ServingPlan' {
        # -WhatIf plans and writes its messages, then starts nothing. SERVING_CONTAINERIZED makes this machine a container either way.
        $saved = $env:SERVING_CONTAINERIZED
        try {
            $env:SERVING_CONTAINERIZED = 'true'
            $started = Start-ServingHost -Port 0 -WhatIf -Verbose -WarningVariable startWarnings -WarningAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $planned = Get-ServingPlan -Port 0 -Verbose -WarningVariable planWarnings -WarningAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $started.Message | Should -Be $planned.Message
            $started.Message[0] | Should -Match 'SERVING_CONTAINERIZED=true'
            "$startWarnings" | Should -Be "$planWarnings"
            "$startWarnings" | Should -Match 'all interfaces'
            Get-ServingHost | Should -BeNullOrEmpty
        }
        finally { $env:SERVING_CONTAINERIZED = $saved }
    }

    It '-HostAddress must be an IP literal or localhost' {
        Get-ErrorId { Get-ServingPlan -HostAddress 'example.com' } | Should -BeLike 'InvalidHostAddress,*'
        Get-ErrorId { Get-ServingPlan -HostAddress '127.1' } | Should -BeLike 'InvalidHostAddress,*'
        (Get-ServingPlan -HostAddress localhost).Url | Should -Be 'http://127.0.0.1:3000'
        (Get-ServingPlan -HostAddress '::1' -Port 8080).Url | Should -Be 'http://[::1]:8080'
    }

    It 'an unknown platform is an error naming what was detected' {
        $err = $null
        try { Get-ServingPlan -Assume @{ OS = 'Haiku'; KernelRelease = 'r1beta4' } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'UnsupportedPlatform,*'
        $err.Exception.Message | Should -Match 'Haiku'
    }

    It 'takes a platform from the pipeline' {
        $plan = Get-ServingPlatform -Assume @{ OS = 'Windows' } | Get-ServingPlan
        $plan.Transport | Should -Be 'Tcp'
    }

    It 'formats as a table and a list' {
        (Get-ServingPlan -HostAddress 127.0.0.1 | Format-Table | Out-String) | Should -Match 'classifier'
        $list = Get-ServingPlan -HostAddress 127.0.0.1 | Format-List | Out-String
        $list | Should -Match 'SocketDirectory'
        $list | Should -Match 'Explanations +: Listen address 127\.0\.0\.1: given by -HostAddress\.'
        # The demo classifier takes batches (read from its assembly); echo does not.
        $list | Should -Match 'classifier x1 Uds \S+classifier\.sock \(batchable\)'
        $list | Should -Not -Match 'echo x1 Uds \S+ \(batchable\)'
        $runners = (Get-ServingPlan -HostAddress 127.0.0.1).Runners
        ($runners | Where-Object Name -EQ 'classifier').Batchable | Should -BeTrue
        ($runners | Format-Table | Out-String) | Should -Match 'Batchable'
    }
}
