# The NuGet package (build.ps1 -Task Package, tools/New-ServingPackage.ps1): what it carries, and that
# PSResourceGet installs it from a folder repository and the installed module serves. Every install runs
# in a child pwsh whose HOME is a folder of TestDrive: its repository registrations and its CurrentUser
# module folder are there, never the user's.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'HostHelpers.ps1')
    Add-Type -AssemblyName System.IO.Compression.FileSystem

    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:ModuleDir = (Get-Module Serving).ModuleBase
    $script:Version = (Import-PowerShellDataFile (Join-Path $ModuleDir 'Serving.psd1')).ModuleVersion

    function Invoke-IsolatedPwsh {
        <# .SYNOPSIS Runs a script in a child pwsh with HOME in TestDrive; returns its exit code and output. #>
        param([Parameter(Mandatory)] [string] $Script, [Parameter(Mandatory)] [string] $WorkingDirectory, [double] $TimeoutSeconds = 180)
        $home_ = Join-Path $TestDrive "home-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $null = New-Item -ItemType Directory -Force $home_
        $exe = [Environment]::ProcessPath
        $info = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ((Split-Path -Leaf $exe) -like 'dotnet*') { $info.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Script) { $info.ArgumentList.Add($a) }
        $info.WorkingDirectory = $WorkingDirectory
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $info.Environment['NO_COLOR'] = '1'
        $info.Environment['HOME'] = $home_
        foreach ($name in 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'PSModulePath') { $null = $info.Environment.Remove($name) }
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            $stderr = $process.StandardError.ReadToEndAsync()
            $stdout = $process.StandardOutput.ReadToEndAsync()
            if (-not $process.WaitForExit([int]($TimeoutSeconds * 1000))) { throw "The child pwsh did not finish within $TimeoutSeconds s." }
            $process.WaitForExit()
            [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result; Error = $stderr.Result; Home = $home_ }
        }
        finally {
            if (-not $process.HasExited) { $process.Kill($true) }
            $process.Dispose()
        }
    }

    function Get-ResultLine([string] $Output) {
        <# .SYNOPSIS The child's one JSON result line (prefixed RESULT:), parsed. #>
        $line = ($Output -split "\r?\n") | Where-Object { $_ -like 'RESULT:*' } | Select-Object -Last 1
        if (-not $line) { return $null }
        return $line.Substring(7) | ConvertFrom-Json
    }

    # The package, made by the Package task's own script from the staged module the tests import.
    $script:PackDir = Join-Path $TestDrive 'cwd/out'
    $null = New-Item -ItemType Directory -Force $PackDir
    $pack = Invoke-IsolatedPwsh -WorkingDirectory $RepoRoot -Script (
        "& '$(Join-Path $RepoRoot 'tools/New-ServingPackage.ps1')' -ModuleDirectory '$ModuleDir' -OutputDirectory '$PackDir'; exit 0")
    if ($pack.ExitCode -ne 0) { throw "Packing failed: $($pack.Output) $($pack.Error)" }
    $script:Package = Join-Path $PackDir "Serving.$Version.nupkg"

    # The child's part of an install test: import the installed module, serve on a free port, call /classify, stop.
    $script:ServeScript = @'
$port = & { $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
Import-Module Serving
$module = Get-Module Serving
$h = Start-ServingHost -Name pkg -Port $port -HostAddress 127.0.0.1 -StartTimeout 60
try {
    $answer = Invoke-RestMethod "http://127.0.0.1:$port/classify" -Method Post -ContentType 'application/json' -Body '{"features":[5.1,3.5,1.4,0.2]}'
}
finally {
    Get-ServingHost | Stop-ServingHost -Timeout 10
    Get-Job | Remove-Job -Force
}
$listening = [bool](Get-Content /proc/net/tcp | Select-Object -Skip 1 | Where-Object { ($_.Trim() -split '\s+')[1] -like ('*:{0:X4}' -f $port) -and ($_.Trim() -split '\s+')[3] -eq '0A' })
'RESULT:' + (@{ ModuleBase = $module.ModuleBase; Version = "$($module.Version)"; Label = $answer.label; Commands = @(Get-Command -Module Serving).Count; Listening = $listening } | ConvertTo-Json -Compress)
'@
}

Describe 'The Serving NuGet package' {
    It 'is named after the module and its version, and carries every file of the staged module but the apphost' {
        $Package | Should -Exist
        $zip = [IO.Compression.ZipFile]::OpenRead($Package)
        try { $entries = @($zip.Entries | ForEach-Object FullName) } finally { $zip.Dispose() }
        $files = @(Get-ChildItem -Recurse -File $ModuleDir | ForEach-Object { [IO.Path]::GetRelativePath($ModuleDir, $_.FullName).Replace('\', '/') })
        $expected = @($files | Where-Object { $_ -notin 'worker/Serving.Worker', 'worker/Serving.Worker.exe' })
        $expected | Should -Contain 'worker/Serving.Worker.dll'
        $expected | Should -Contain 'worker/Serving.Worker.runtimeconfig.json'
        $expected | Should -Contain 'demo/Serving.Demo.dll'
        $expected | Should -Contain 'en-US/Serving.Cmdlets.dll-Help.xml'
        $expected | Should -Contain 'en-US/about_Serving.help.txt'
        $expected | Should -Contain 'Serving.Format.ps1xml'
        $expected | Should -Contain 'lib/Serving.Abstractions.dll'
        foreach ($file in $expected) { $entries | Should -Contain $file }
        $entries | Should -Not -Contain 'worker/Serving.Worker'
        $entries | Should -Not -Contain 'worker/Serving.Worker.exe'
    }

    It 'has a nuspec made from the module manifest' {
        $zip = [IO.Compression.ZipFile]::OpenRead($Package)
        try {
            $reader = [IO.StreamReader]::new($zip.GetEntry('Serving.nuspec').Open())
            try { $nuspec = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally { $zip.Dispose() }
        $manifest = Import-PowerShellDataFile (Join-Path $ModuleDir 'Serving.psd1')
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'Serving'
        $metadata.version | Should -Be $manifest.ModuleVersion
        $metadata.authors | Should -Be $manifest.Author
        $metadata.description | Should -Be $manifest.Description
        $metadata.licenseUrl | Should -Be $manifest.PrivateData.PSData.LicenseUri
        $metadata.tags -split ' ' | Should -Contain 'PSModule'
    }

    It 'installs as the README says (Register-PSResourceRepository ./out, Install-PSResource -Scope CurrentUser), imports by name and serves /classify' {
        # The README's own lines, run as written, from a folder whose out/ holds the package.
        $readme = Get-Content -Raw (Join-Path $RepoRoot 'README.md')
        $section = [regex]::Match($readme, '(?s)\n## Install\r?\n(.*?)\n## ').Groups[1].Value
        $block = [regex]::Match($section, '(?s)```powershell\r?\n(.*?)```').Groups[1].Value
        $block | Should -Match 'Register-PSResourceRepository'
        $block | Should -Match 'Install-PSResource'
        $script = "`$ErrorActionPreference = 'Stop'`ntry {`n$block`n$ServeScript`n}`nfinally { Unregister-PSResourceRepository -Name local -ErrorAction Ignore }"
        $run = Invoke-IsolatedPwsh -WorkingDirectory (Split-Path $PackDir) -Script $script
        $result = Get-ResultLine $run.Output
        $result | Should -Not -BeNullOrEmpty -Because "the child wrote: $($run.Output) $($run.Error)"
        $run.ExitCode | Should -Be 0
        $result.ModuleBase | Should -BeLike "$($run.Home)/*/Serving/$Version"
        $result.Version | Should -Be $Version
        $result.Label | Should -Be 'setosa'
        $result.Commands | Should -Be @(Get-Command -Module Serving).Count
        $result.Listening | Should -BeFalse
        # The repository was unregistered by the child, in its own HOME; the user's repositories were never touched.
        Get-Content -Raw (Join-Path $run.Home '.local/share/PSResourceGet/PSResourceRepository.xml') | Should -Not -Match 'Name="local"'
    }

    It 'saves with Save-PSResource into a folder on PSModulePath, imports by name and serves /classify' {
        $name = "serving-test-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $saved = Join-Path $TestDrive "saved-$name"
        $null = New-Item -ItemType Directory -Force $saved
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name '$name' -Uri '$PackDir' -Trusted
try {
    Save-PSResource -Name Serving -Repository '$name' -Path '$saved'
    `$env:PSModulePath = '$saved' + [IO.Path]::PathSeparator + `$env:PSModulePath
    $ServeScript
}
finally { Unregister-PSResourceRepository -Name '$name' }
"@
        $run = Invoke-IsolatedPwsh -WorkingDirectory $TestDrive -Script $script
        $result = Get-ResultLine $run.Output
        $result | Should -Not -BeNullOrEmpty -Because "the child wrote: $($run.Output) $($run.Error)"
        $run.ExitCode | Should -Be 0
        $result.ModuleBase | Should -Be (Join-Path $saved "Serving/$Version")
        $result.Label | Should -Be 'setosa'
        $result.Listening | Should -BeFalse
        Join-Path $saved "Serving/$Version/worker/Serving.Worker.dll" | Should -Exist
        Get-Content -Raw (Join-Path $run.Home '.local/share/PSResourceGet/PSResourceRepository.xml') | Should -Not -Match $name
    }
}
