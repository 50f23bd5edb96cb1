<#
.SYNOPSIS
    Runs the Pester suites against the staged module and writes a JSON summary (used by build.ps1).
#>
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $SummaryPath,
    [string] $Filter = '*'
)
$ErrorActionPreference = 'Stop'
$env:NO_COLOR = '1'
Import-Module $PesterManifest -Force

# The suites import the staged module from here, never the source tree.
$env:SERVING_TEST_MODULE = (Resolve-Path $ModuleManifest).Path

$files = Get-ChildItem $PSScriptRoot -Filter '*.Tests.ps1' | Where-Object Name -Like "$Filter*"
$config = New-PesterConfiguration
$config.Run.Path = @($files.FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$config.Output.StackTraceVerbosity = 'FirstLine'
$result = Invoke-Pester -Configuration $config

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $failed
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
exit ([int]($failed -gt 0))
