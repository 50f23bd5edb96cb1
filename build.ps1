#Requires -Version 7.4
<#
.SYNOPSIS
    The front door of the Serving build: Build, Package, Test, Run, Train, Bench.
.DESCRIPTION
    Build  stages a loadable module into out/Serving/ from an explicit list of files.
    Package builds, then packs out/Serving/ into out/Serving.<version>.nupkg (tools/New-ServingPackage.ps1),
           which Install-PSResource installs from a folder repository (see README.md, "Install").
    Test   builds, runs every xunit project and every Pester suite, and ends with one line
           "Tests: N passed, N failed, N skipped"; exits non-zero on any failure.
    Run    builds, imports the staged module in a child pwsh and does the project's main job.
    Train  retrains the demo classifier from data/iris.csv and regenerates its weights (C# and module/demo/iris.onnx).
    Bench  builds, then measures development and production hosts side by side with wrk and h2load
           (bench/Invoke-Bench.ps1; see docs/benchmarks.md): a Markdown table of issue 14's goals on
           the console, every raw measurement in bench/results/<time>.json. About 5 minutes.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Run', 'Train', 'Bench')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Only Pester files whose name matches this wildcard (Test task).
    [string] $PesterFilter = '*',

    # Skip the xunit projects (Test task), for a quick Pester loop.
    [switch] $SkipUnit,

    # Skip Pester (Test task).
    [switch] $SkipPester,

    # Seconds of each measured load (Bench task).
    [ValidateRange(1, 60)]
    [int] $BenchSeconds = 5,

    # Rounds of alternated configurations, figures being their medians (Bench task).
    [ValidateRange(1, 9)]
    [int] $BenchRounds = 2
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out'
$ModuleDir = Join-Path $OutDir 'Serving'
$ResultsDir = Join-Path $OutDir 'test-results'

function Invoke-Dotnet {
    <# .SYNOPSIS Runs dotnet with the given arguments and throws when it fails. #>
    # $args, not a [Parameter]: dotnet's own switches (-c, -v:q) must not bind to common parameters.
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Get-ChildPwsh {
    <# .SYNOPSIS The command line that starts this same pwsh as a child (dotnet tool or installed). #>
    $exe = [Environment]::ProcessPath
    if ((Split-Path -Leaf $exe) -like 'dotnet*') { return , @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
    return , @($exe)
}

function Invoke-ChildPwsh {
    <# .SYNOPSIS Runs a script file in a child pwsh -NoProfile, so the build never holds its own output loaded. #>
    param([string] $File, [string[]] $Arguments = @())
    $cmd = Get-ChildPwsh
    $rest = @($cmd | Select-Object -Skip 1)
    & $cmd[0] @rest -NoProfile -NonInteractive -File $File @Arguments | Out-Host
    return $LASTEXITCODE
}

function Get-ServingVersion {
    <# .SYNOPSIS The module version, from its one home: <ServingVersion> in Directory.Build.props. #>
    $props = [xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))
    $version = $props.Project.PropertyGroup.ServingVersion | Where-Object { $_ } | Select-Object -First 1
    if (-not $version) { throw 'Directory.Build.props has no <ServingVersion>.' }
    return $version.Trim()
}

function Get-StagedFiles {
    <# .SYNOPSIS The explicit list of files the module ships: source path -> path under out/Serving. #>
    $bin = "bin/$Configuration"
    [ordered]@{
        "src/Cmdlets/$bin/net8.0/Serving.Cmdlets.dll"           = 'Serving.Cmdlets.dll'
        "src/Cmdlets/$bin/net8.0/Serving.Runtime.dll"           = 'Serving.Runtime.dll'
        'module/Serving.Format.ps1xml'                          = 'Serving.Format.ps1xml'
        'module/en-US/about_Serving.help.txt'                   = 'en-US/about_Serving.help.txt'
        'module/demo/Demo.psd1'                                 = 'demo/Demo.psd1'
        'module/demo/DemoOnnx.psd1'                             = 'demo/DemoOnnx.psd1'
        'module/demo/iris.onnx'                                 = 'demo/iris.onnx'
        'module/proto/serving.proto'                            = 'proto/serving.proto'
        "src/Demo/$bin/net8.0/Serving.Demo.dll"                 = 'demo/Serving.Demo.dll'
        "src/Abstractions/$bin/net8.0/Serving.Abstractions.dll" = 'lib/Serving.Abstractions.dll'
    }
}

function Invoke-Build {
    <# .SYNOPSIS Builds the solution and stages a loadable module into out/Serving/. #>
    Invoke-Dotnet build (Join-Path $Root 'Cmdlets.sln') -c $Configuration --nologo --verbosity quiet

    if (Test-Path $ModuleDir) { Remove-Item -Recurse -Force $ModuleDir }
    $null = New-Item -ItemType Directory -Force $ModuleDir

    foreach ($entry in (Get-StagedFiles).GetEnumerator()) {
        $source = Join-Path $Root $entry.Key
        if (-not (Test-Path -LiteralPath $source)) { throw "Staging failed: '$($entry.Key)' does not exist. Did the build produce it?" }
        $target = Join-Path $ModuleDir $entry.Value
        $null = New-Item -ItemType Directory -Force (Split-Path $target)
        Copy-Item -LiteralPath $source -Destination $target
    }

    # The worker runs in its own process with its own dependencies: ship its whole build output.
    $workerBin = Join-Path $Root "src/Worker/bin/$Configuration/net10.0"
    foreach ($required in 'Serving.Worker.dll', 'Serving.Worker.runtimeconfig.json', 'Serving.Worker.deps.json') {
        if (-not (Test-Path (Join-Path $workerBin $required))) { throw "Staging failed: the worker build has no $required." }
    }
    Copy-Item -Recurse (Join-Path $workerBin '*') -Destination (New-Item -ItemType Directory -Force (Join-Path $ModuleDir 'worker'))

    # The manifest, with ModuleVersion from its one home.
    $version = Get-ServingVersion
    $manifest = Get-Content -Raw (Join-Path $Root 'Serving.psd1')
    $manifest = $manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion          = '$version'"
    Set-Content -LiteralPath (Join-Path $ModuleDir 'Serving.psd1') -Value $manifest -NoNewline

    # XML help, generated from the compiled cmdlets and module/help/*.psd1 in a child pwsh.
    $code = Invoke-ChildPwsh (Join-Path $Root 'tools/New-ServingHelp.ps1') @('-ModuleDirectory', $ModuleDir, '-HelpSource', (Join-Path $Root 'module/help'))
    if ($code -ne 0) { throw "Generating XML help failed (exit code $code)." }

    Write-Host "Staged module: $ModuleDir (version $version)"
}

function Invoke-Package {
    <# .SYNOPSIS Builds, then packs the staged module into out/Serving.<version>.nupkg in a child pwsh. #>
    Invoke-Build
    Get-ChildItem $OutDir -Filter 'Serving.*.nupkg' | Remove-Item -Force
    $code = Invoke-ChildPwsh (Join-Path $Root 'tools/New-ServingPackage.ps1') @('-ModuleDirectory', $ModuleDir, '-OutputDirectory', $OutDir)
    if ($code -ne 0) { throw "Packing the module failed (exit code $code)." }
}

function Get-TrxCounts {
    <# .SYNOPSIS Reads passed/failed/skipped from a VSTest .trx file. #>
    param([string] $Path)
    $run = ([xml](Get-Content -Raw $Path)).TestRun
    $counters = $run.ResultSummary.Counters
    $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $failedNames = @($run.Results.UnitTestResult | Where-Object outcome -NE 'Passed' | Where-Object outcome -NE 'NotExecuted' |
            ForEach-Object {
                $message = [string]$_.Output.ErrorInfo.Message
                '{0}: {1}' -f $_.testName, (($message -split "`n" | Select-Object -First 3) -join ' / ')
            })
    [pscustomobject]@{
        Passed      = [int]$counters.passed
        Failed      = $failed
        Skipped     = [int]$counters.total - [int]$counters.passed - $failed
        FailedNames = $failedNames
    }
}

function Invoke-UnitTests {
    <# .SYNOPSIS Runs every xunit project under tests/ and returns the summed counts. #>
    $total = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0; FailedNames = [System.Collections.Generic.List[string]]::new() }
    $projects = Get-ChildItem (Join-Path $Root 'tests') -Recurse -Filter '*.Tests.csproj'
    foreach ($project in $projects) {
        $trx = "$($project.BaseName).trx"
        $trxPath = Join-Path $ResultsDir $trx
        Remove-Item -ErrorAction Ignore $trxPath
        & dotnet test $project.FullName -c $Configuration --no-build --nologo --verbosity quiet `
            --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' --results-directory $ResultsDir | Out-Host
        $exit = $LASTEXITCODE
        if (-not (Test-Path $trxPath)) {
            Write-Host "xunit: $($project.BaseName) produced no results (exit $exit): counted as one failure."
            $total.Failed++
            $total.FailedNames.Add("$($project.BaseName): produced no results (exit $exit)")
            continue
        }
        $counts = Get-TrxCounts $trxPath
        if ($exit -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1 }
        Write-Host ('xunit: {0}: {1} passed, {2} failed, {3} skipped' -f $project.BaseName, $counts.Passed, $counts.Failed, $counts.Skipped)
        $total.Passed += $counts.Passed; $total.Failed += $counts.Failed; $total.Skipped += $counts.Skipped
        foreach ($name in $counts.FailedNames) { $total.FailedNames.Add("$($project.BaseName): $name") }
    }
    return $total
}

function Get-PesterModulePath {
    <# .SYNOPSIS Pester 5.7.1 from the NuGet cache (restored by a PackageDownload in tests/). #>
    $cache = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $path = Join-Path $cache 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $path)) { throw "Pester 5.7.1 is not in the NuGet cache ($path); 'dotnet restore' of tests/Serving.Runtime.Tests downloads it." }
    return $path
}

function Invoke-PesterTests {
    <# .SYNOPSIS Runs the Pester suites against the staged module in a child pwsh; returns the counts. #>
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    Remove-Item -ErrorAction Ignore $summary
    $arguments = @(
        '-ModuleManifest', (Join-Path $ModuleDir 'Serving.psd1'),
        '-PesterManifest', (Get-PesterModulePath),
        '-SummaryPath', $summary)
    # A bare '*' would be expanded by the native-command globbing of pwsh on Unix: pass it only when narrowed.
    if ($PesterFilter -ne '*') { $arguments += '-Filter', $PesterFilter }
    $code = Invoke-ChildPwsh (Join-Path $Root 'tests/Pester/Invoke-ServingPester.ps1') $arguments
    if (-not (Test-Path $summary)) {
        Write-Host "Pester produced no summary (exit $code): counted as one failure."
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; FailedNames = @("Pester: produced no summary (exit $code)") }
    }
    $counts = Get-Content -Raw $summary | ConvertFrom-Json
    Write-Host ('pester: {0} passed, {1} failed, {2} skipped' -f $counts.Passed, $counts.Failed, $counts.Skipped)
    return $counts
}

function Invoke-Test {
    <# .SYNOPSIS Builds, runs xunit and Pester, prints the one-line total and fails on any failure. #>
    Invoke-Build
    $null = New-Item -ItemType Directory -Force $ResultsDir
    $passed = 0; $failed = 0; $skipped = 0
    $failedNames = [System.Collections.Generic.List[string]]::new()
    foreach ($counts in @(
            $(if (-not $SkipUnit) { Invoke-UnitTests })
            $(if (-not $SkipPester) { Invoke-PesterTests }))) {
        if ($null -eq $counts) { continue }
        $passed += $counts.Passed; $failed += $counts.Failed; $skipped += $counts.Skipped
        foreach ($name in @($counts.FailedNames)) { if ($name) { $failedNames.Add([string]$name) } }
    }
    # Repeated here so that the last lines of a CI log say which tests failed, not only how many.
    if ($failedNames.Count -gt 0) {
        Write-Host 'Failed tests:'
        foreach ($name in $failedNames) { Write-Host "  $($name -replace '\s+', ' ')" }
    }
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Run {
    <# .SYNOPSIS Builds, then runs the main job from the staged module in a child pwsh. #>
    Invoke-Build
    $code = Invoke-ChildPwsh (Join-Path $Root 'tools/Start-Demo.ps1') @('-ModuleManifest', (Join-Path $ModuleDir 'Serving.psd1'))
    if ($code -ne 0) { exit $code }
}

function Invoke-Train {
    <# .SYNOPSIS Retrains the demo classifier from data/iris.csv and rewrites its committed weights and iris.onnx. #>
    Invoke-Dotnet run --project (Join-Path $Root 'tools/TrainIris') -c $Configuration -- `
        --data (Join-Path $Root 'data/iris.csv') --out (Join-Path $Root 'src/Demo/IrisModel.Weights.g.cs') `
        --onnx (Join-Path $Root 'module/demo/iris.onnx')
}

function Invoke-Bench {
    <# .SYNOPSIS Builds, then measures the staged module side by side in a child pwsh (bench/Invoke-Bench.ps1). #>
    $clock = [Diagnostics.Stopwatch]::StartNew()
    Invoke-Build
    $code = Invoke-ChildPwsh (Join-Path $Root 'bench/Invoke-Bench.ps1') @(
        '-ModuleManifest', (Join-Path $ModuleDir 'Serving.psd1'),
        '-Seconds', $BenchSeconds, '-Rounds', $BenchRounds,
        '-ResultsDirectory', (Join-Path $Root 'bench/results'))
    Write-Host ('Bench task (build included) took {0:N0} s' -f $clock.Elapsed.TotalSeconds)
    if ($code -ne 0) { exit $code }
}

Push-Location $Root
try {
    switch ($Task) {
        'Build' { Invoke-Build }
        'Package' { Invoke-Package }
        'Test' { Invoke-Test }
        'Run' { Invoke-Run }
        'Train' { Invoke-Train }
        'Bench' { Invoke-Bench }
    }
}
finally {
    Pop-Location
}
