# Dot-sourced by every suite: imports the staged module and offers small helpers.
$ErrorActionPreference = 'Stop'
if (-not $env:SERVING_TEST_MODULE) { throw 'SERVING_TEST_MODULE is not set: run the suites through build.ps1 -Task Test.' }
Import-Module $env:SERVING_TEST_MODULE -Force

function Get-ErrorId {
    <# .SYNOPSIS Runs a script block and returns the FullyQualifiedErrorId of the terminating error it raises. #>
    param([scriptblock] $ScriptBlock)
    try { & $ScriptBlock | Out-Null } catch { return $_.FullyQualifiedErrorId }
    throw 'Expected a terminating error, but none was raised.'
}
