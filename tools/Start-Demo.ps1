<#
.SYNOPSIS
    The main job, as build.ps1 -Task Run does it: show the platform and the plan, then serve the
    demo service in the foreground until Ctrl+C.
#>
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force

Get-ServingPlatform | Format-List
Get-ServingPlan | Format-List
if (Get-Command Start-ServingHost -ErrorAction Ignore) {
    Start-ServingHost -Wait
}
