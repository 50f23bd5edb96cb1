BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'The Serving module' {
    It 'exports exactly its cmdlets, for PowerShell 7.4+ Core' {
        $m = Get-Module Serving
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PowerShellVersion | Should -Be ([version]'7.4')
        $m.ExportedCmdlets.Keys | Sort-Object | Should -Be @('Get-ServingHost', 'Get-ServingLog', 'Get-ServingPlan', 'Get-ServingPlatform', 'Invoke-ServingApi', 'New-ServingService', 'Restart-ServingHost', 'Set-ServingHost', 'Start-ServingHost', 'Stop-ServingHost', 'Use-ServingHost', 'Watch-ServingHost')
        $m.ExportedFunctions.Count | Should -Be 0
    }

    It 'its in-process assemblies target net8.0, so pwsh 7.4 can load them' {
        foreach ($name in 'Serving.Cmdlets', 'Serving.Runtime') {
            $asm = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name }
            $asm | Should -Not -BeNullOrEmpty
            $tfm = $asm.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], $false)[0].FrameworkName
            $tfm | Should -Be '.NETCoreApp,Version=v8.0'
        }
    }

    It 'loads no ASP.NET Core or gRPC assembly into pwsh' {
        [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { $_ -match '^(Microsoft\.AspNetCore|Grpc\.|Google\.Protobuf)' } | Should -BeNullOrEmpty
    }

    It 'Get-Help <Name> has a synopsis, a description, examples and help for every parameter' -TestCases @(
        @{ Name = 'Get-ServingPlatform' }, @{ Name = 'Get-ServingPlan' }, @{ Name = 'Start-ServingHost' },
        @{ Name = 'Get-ServingHost' }, @{ Name = 'Stop-ServingHost' }, @{ Name = 'Restart-ServingHost' }, @{ Name = 'Set-ServingHost' },
        @{ Name = 'Get-ServingLog' }, @{ Name = 'Watch-ServingHost' }, @{ Name = 'New-ServingService' }, @{ Name = 'Invoke-ServingApi' }, @{ Name = 'Use-ServingHost' }
    ) {
        param($Name)
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*(Get|Start|Stop|Restart|Set|Watch)-' -Because 'a generated synopsis is just the syntax'
        ($help.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterThan 0
        foreach ($p in $help.parameters.parameter) {
            ($p.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($p.name) is documented"
        }
    }

    It 'has an about_Serving topic' {
        (Get-Help about_Serving | Out-String) | Should -Match 'GrpcRequiresReusePort'
    }

    It 'ships the gRPC proto and the runner contract assembly' {
        $base = (Get-Module Serving).ModuleBase
        Test-Path (Join-Path $base 'proto/serving.proto') | Should -BeTrue
        Test-Path (Join-Path $base 'lib/Serving.Abstractions.dll') | Should -BeTrue
    }
}
