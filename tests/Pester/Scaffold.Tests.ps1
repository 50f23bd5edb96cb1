BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1
    $script:Readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')

    function New-TempDirectory {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("svc-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $dir | Out-Null
        return $dir
    }

    function Get-ReadmeBlock([string] $Section, [string] $Language) {
        <# .SYNOPSIS The first fenced block of -Language after the heading -Section. #>
        $start = $Readme.IndexOf("## $Section")
        $start | Should -BeGreaterOrEqual 0 -Because "README.md has a '## $Section' section"
        $m = [regex]::new('```' + $Language + '\r?\n(.*?)```', 'Singleline').Match($Readme, $start)
        $m.Success | Should -BeTrue -Because "the section has a $Language block"
        return $m.Groups[1].Value
    }
}

Describe 'New-ServingService and Project builds' {
    BeforeEach { $script:dir = New-TempDirectory }
    AfterEach {
        Remove-AllServingHosts
        Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    }

    It 'writes a service that builds and serves as it is, and refuses to overwrite it' {
        $files = New-ServingService (Join-Path $dir 'my-svc') -Runner scorer
        ($files | ForEach-Object { [IO.Path]::GetRelativePath((Join-Path $dir 'my-svc'), $_.FullName) -replace '\\', '/' }) |
            Should -Be @('my-svc.psd1', 'src/MySvc.Runners.csproj', 'src/ScorerRunner.cs', 'tests/my-svc.Tests.ps1', '.servingignore')
        # The project names the module's copy of the runner contract by its path; Start-ServingHost's build gives
        # the running module's own, so a project written by a module since upgraded or moved (here: a path that
        # is gone) still builds.
        $csproj = Join-Path $dir 'my-svc/src/MySvc.Runners.csproj'
        $text = Get-Content -Raw $csproj
        $text | Should -Match ([regex]::Escape((Join-Path (Split-Path $env:SERVING_TEST_MODULE) 'lib/Serving.Abstractions.dll')))
        $text -replace '>[^<]*Serving\.Abstractions\.dll<', '>/gone/Serving/0.0.1/lib/Serving.Abstractions.dll<' | Set-Content -NoNewline $csproj
        $job = Start-ServingHost -Service (Join-Path $dir 'my-svc') -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $answer = Invoke-RestMethod -Method Post -Uri "$($job.Location)/predict" -ContentType 'application/json' -Body '{"values":[1,2,3]}'
        $answer.sum | Should -Be 6
        $answer.mean | Should -Be 2
        # Batchable: {"instances":[...]} is one call with several items.
        $many = Invoke-RestMethod -Method Post -Uri "$($job.Location)/predict" -ContentType 'application/json' -Body '{"instances":[{"values":[1]},{"values":[2,4]}]}'
        $many.mean | Should -Be @(1, 3)
        $e = { New-ServingService (Join-Path $dir 'my-svc') } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Match '^ServiceExists'
    }

    It 'a compile error is a terminating error with the compiler''s first errors, and nothing starts' {
        New-ServingService (Join-Path $dir 'broken') | Out-Null
        Add-Content (Join-Path $dir 'broken/src/ModelRunner.cs') 'this is not C#'
        $e = { Start-ServingHost -Service (Join-Path $dir 'broken') -Port 0 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Match '^ServiceBuildFailed'
        $e.Exception.Message | Should -Match 'ModelRunner\.cs\(\d+,\d+\): error CS\d+'
        @(Get-ServingHost) | Should -BeNullOrEmpty
        @(Get-WorkerPids) | Should -BeNullOrEmpty
    }

    It 'with -Reload, a saved .cs file rebuilds and a new generation serves; a broken one keeps the old serving' {
        New-ServingService (Join-Path $dir 'live') | Out-Null
        $source = Join-Path $dir 'live/src/ModelRunner.cs'
        $job = Start-ServingHost -Service (Join-Path $dir 'live') -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Reload
        $url = $job.Location
        # Invoke-ServingApi keeps its connection open between calls (a keep-alive pool, as most clients do).
        (Invoke-ServingApi -Name $job.Name -Route /predict -Body @{ values = 1, 2, 6 }).mean | Should -Be 3
        (Get-Content -Raw $source).Replace('values.Average()', 'values.Max()') | Set-Content -NoNewline $source
        Wait-Until -TimeoutSeconds 90 -What 'generation 2 built and serving' { (Get-ServingHost -Name $job.Name).Generation -eq 2 }
        # Generation 2 is announced once generation 1's API worker closed its listening socket: a new connection
        # reaches the new code, and Invoke-ServingApi connects anew when the generation changed.
        (Invoke-ServingApi -Name $job.Name -Route /predict -Body @{ values = 1, 2, 6 }).mean | Should -Be 6
        # A client that keeps its connection open is answered by generation 1's worker until that worker drains
        # (by design, so no request fails): the new code's answer follows within the drain.
        Wait-Until -TimeoutSeconds 30 -What 'the rebuilt runner to answer Invoke-RestMethod' {
            (Invoke-RestMethod -Method Post -Uri "$url/predict" -ContentType 'application/json' -Body '{"values":[1,2,6]}').mean -eq 6
        }
        # The rebuild shows in the reloader's lines: the command, dotnet build's own lines, what it built and how long it took.
        $reloader = @(Get-ServingLog -Name $job.Name -Worker reloader | ForEach-Object Message)
        ($reloader -match '^reloader: build: dotnet build .*[/\\]Live\.Runners\.csproj -c Release$') | Should -Not -BeNullOrEmpty
        ($reloader -match '^reloader: build: built .*[/\\]Live\.Runners\.dll in \d+\.\d s$') | Should -Not -BeNullOrEmpty

        Add-Content $source 'this is not C#'
        Wait-Until -TimeoutSeconds 90 -What 'the failed build reported' { $job.Error.Count -ge 1 }
        $job.Error[0].FullyQualifiedErrorId | Should -Match '^ReloadFailed'
        $job.Error[0].Exception.Message | Should -Match '(?s)did not build.*ModelRunner\.cs\(\d+,\d+\): error CS\d+'
        (Get-ServingHost -Name $job.Name).Generation | Should -Be 2
        (Invoke-RestMethod -Method Post -Uri "$url/predict" -ContentType 'application/json' -Body '{"values":[1,2,6]}').mean | Should -Be 6
    }
}

Describe 'README: Writing a service' {
    BeforeEach { $script:dir = New-TempDirectory }
    AfterEach {
        Remove-AllServingHosts
        Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    }

    It 'shows exactly the runner New-ServingService writes' {
        New-ServingService (Join-Path $dir 'mysvc') | Out-Null
        $written = Get-Content -Raw (Join-Path $dir 'mysvc/src/ModelRunner.cs')
        (Get-ReadmeBlock 'Writing a service' 'csharp').Trim() -replace '\r\n', "`n" | Should -Be ($written.Trim() -replace '\r\n', "`n")
        (Get-ReadmeBlock 'Writing a service' 'psd1').Trim() -replace '\r\n', "`n" |
            Should -Be ((Get-Content -Raw (Join-Path $dir 'mysvc/mysvc.psd1')).Trim() -replace '\r\n', "`n")
    }

    It 'its commands run as written, the scaffold''s own Pester test included' {
        $script = Get-ReadmeBlock 'Writing a service' 'powershell'
        $child = Start-ChildPwsh -RedirectError @"
`$ErrorActionPreference = 'Stop'
Set-Location '$dir'
`$env:PSModulePath = '$(Split-Path (Split-Path $env:SERVING_TEST_MODULE))' + [IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module '$((Get-Module Pester).Path)'
$script
"@
        try {
            $out = $child.StandardOutput.ReadToEndAsync()
            $err = $child.StandardError.ReadToEndAsync()
            $child.WaitForExit(240000) | Should -BeTrue -Because 'the README''s steps finish'
            $child.ExitCode | Should -Be 0 -Because "stdout: $($out.Result)`nstderr: $($err.Result)"
            $out.Result | Should -Match 'Tests Passed: 1, Failed: 0'
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) } }
    }
}
