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
    # Named again at the end of the build's output, where a CI log's tail shows them.
    FailedNames = @(
        $result.Failed | ForEach-Object { '{0}: {1}' -f $_.ExpandedPath, (($_.ErrorRecord | Select-Object -First 1) -as [string]) }
        $result.FailedBlocks | ForEach-Object { '{0} (block): {1}' -f $_.ExpandedPath, (($_.ErrorRecord | Select-Object -First 1) -as [string]) }
        $result.FailedContainers | ForEach-Object { '{0} (file): {1}' -f $_.Item, (($_.ErrorRecord | Select-Object -First 1) -as [string]) })
} | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
exit ([int]($failed -gt 0))
