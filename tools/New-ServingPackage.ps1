<#
.SYNOPSIS
    Packs the staged module (out/Serving/) into a NuGet package, Serving.<version>.nupkg, that
    PSResourceGet installs from a folder repository as it would a PowerShell Gallery module.
.DESCRIPTION
    Uses PSResourceGet's own Compress-PSResource (no repository, no network): the nuspec is made from
    the module manifest (ModuleVersion, Author, Description, Copyright, LicenseUri, Tags). Every file
    of the staged module is packed except the worker's apphost (worker/Serving.Worker and
    worker/Serving.Worker.exe): it is a native launcher for the build machine's OS and architecture
    only, and a package keeps no execute bit. Without it the supervisor starts the worker as
    'dotnet Serving.Worker.dll' (framework-dependent: the .NET 10 and ASP.NET Core 10 runtimes),
    which works on every OS. Fails when the package lacks a file of the module.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $OutputDirectory
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Import-Module Microsoft.PowerShell.PSResourceGet
Add-Type -AssemblyName System.IO.Compression.FileSystem

$ModuleDirectory = (Resolve-Path -LiteralPath $ModuleDirectory).Path
$manifest = Import-PowerShellDataFile (Join-Path $ModuleDirectory 'Serving.psd1')
$version = $manifest.ModuleVersion
$excluded = @('worker/Serving.Worker', 'worker/Serving.Worker.exe')

# Compress-PSResource packs a folder named after the module: copy the module without the apphost.
$work = Join-Path ([IO.Path]::GetTempPath()) "serving-pack-$([guid]::NewGuid().ToString('N'))"
$staging = Join-Path $work 'Serving'
try {
    $null = New-Item -ItemType Directory -Force $staging
    Copy-Item -Recurse -Path (Join-Path $ModuleDirectory '*') -Destination $staging
    foreach ($file in $excluded) { Remove-Item -Force -ErrorAction Ignore -LiteralPath (Join-Path $staging $file) }
    $expected = @(Get-ChildItem -Recurse -File $staging | ForEach-Object { [IO.Path]::GetRelativePath($staging, $_.FullName).Replace('\', '/') })

    $null = New-Item -ItemType Directory -Force $OutputDirectory
    $package = Join-Path (Resolve-Path -LiteralPath $OutputDirectory).Path "Serving.$version.nupkg"
    Remove-Item -Force -ErrorAction Ignore -LiteralPath $package
    Compress-PSResource -Path $staging -DestinationPath (Split-Path $package)
    if (-not (Test-Path -LiteralPath $package)) { throw "Compress-PSResource did not produce $package." }

    $zip = [IO.Compression.ZipFile]::OpenRead($package)
    try { $entries = @($zip.Entries | ForEach-Object FullName) } finally { $zip.Dispose() }
    $missing = @($expected | Where-Object { $_ -notin $entries })
    if ($missing) { throw "The package $package lacks files of the module: $($missing -join ', ')." }
    if ('Serving.nuspec' -notin $entries) { throw "The package $package has no Serving.nuspec." }
    Write-Host "Package: $package ($($expected.Count) module files)"
}
finally {
    Remove-Item -Recurse -Force -ErrorAction Ignore -LiteralPath $work
}
