# Helpers for suites that start real hosts: process and socket inspection through /proc, polling
# with deadlines (never sleeps as synchronisation), and cleanup that runs even when a test failed.

$script:FixtureDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../Fixtures/CustomRunner')).Path
$script:FixtureManifest = Join-Path $FixtureDirectory 'Fixture.psd1'
$script:FixtureAssembly = Join-Path $FixtureDirectory 'bin/Serving.Fixture.CustomRunner.dll'

function Remove-AllServingHosts {
    <# .SYNOPSIS Stops every host of this session and removes its job; kills any worker child left over. #>
    Get-ServingHost | Where-Object State -NotIn 'Stopped', 'Failed' | Stop-ServingHost -Timeout 5
    Get-Job | Where-Object PSJobTypeName -EQ 'ServingHost' | Remove-Job -Force
    foreach ($p in Get-WorkerPids) { & kill -9 $p 2>$null }
}

function Assert-NothingLeft {
    <# .SYNOPSIS No host, no ServingHost job and no worker process of this session is left (workers polled until gone). #>
    @(Get-ServingHost) | Should -BeNullOrEmpty -Because 'no host is left in the session'
    @(Get-Job | Where-Object PSJobTypeName -EQ 'ServingHost') | Should -BeNullOrEmpty -Because 'no job is left'
    Wait-Until { @(Get-WorkerPids).Count -eq 0 } -TimeoutSeconds 10 -What 'every worker process to exit'
}

function Get-ErrorRecords {
    <# .SYNOPSIS The error records a block writes or throws, collected instead of failing the caller. #>
    param([Parameter(Mandatory, Position = 0)] [scriptblock] $ScriptBlock)
    $ErrorActionPreference = 'Continue'
    $errors = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
    try {
        & $ScriptBlock 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } }
    }
    catch { $errors.Add($_) }
    return , $errors.ToArray()
}

function Wait-Until {
    <# .SYNOPSIS Polls a condition until it holds; fails the test with -What after the deadline. #>
    param([Parameter(Mandatory, Position = 0)] [scriptblock] $Condition, [double] $TimeoutSeconds = 10, [string] $What = 'the condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        if (& $Condition) { return }
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $What." }
        Start-Sleep -Milliseconds 50
    }
}

function Get-ResponseText {
    <# .SYNOPSIS The body of an Invoke-WebRequest response as text: PowerShell hands application/problem+json over as bytes. #>
    param([Parameter(Mandatory, Position = 0)] $Response)
    if ($Response.Content -is [byte[]]) { return [Text.Encoding]::UTF8.GetString($Response.Content) }
    return $Response.Content
}

function Get-ProcStat([int] $ProcessId) {
    $path = "/proc/$ProcessId/stat"
    if (-not (Test-Path $path)) { return $null }
    try { $text = [IO.File]::ReadAllText($path) } catch { return $null }
    # comm may hold spaces: fields after the last ')' are fixed.
    return $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
}

function Get-ParentPid([int] $ProcessId) {
    $fields = Get-ProcStat $ProcessId
    if ($fields) { [int]$fields[1] }
}

function Test-ProcessAlive([int] $ProcessId) {
    $fields = Get-ProcStat $ProcessId
    return [bool]($fields -and $fields[0] -ne 'Z')
}

function Get-ProcessEnvironment([int] $ProcessId) {
    $map = @{}
    foreach ($pair in ([IO.File]::ReadAllText("/proc/$ProcessId/environ") -split "`0")) {
        $i = $pair.IndexOf('=')
        if ($i -gt 0) { $map[$pair.Substring(0, $i)] = $pair.Substring($i + 1) }
    }
    return $map
}

function Get-ChildPids([int] $ParentId) {
    foreach ($dir in Get-ChildItem /proc -Directory -ErrorAction Ignore | Where-Object Name -Match '^\d+$') {
        if ((Get-ParentPid ([int]$dir.Name)) -eq $ParentId -and (Test-ProcessAlive ([int]$dir.Name))) { [int]$dir.Name }
    }
}

function Get-WorkerPids {
    <# .SYNOPSIS Live Serving.Worker processes started by this pwsh (optionally of one host). #>
    param([string] $HostId)
    foreach ($p in Get-ChildPids $PID) {
        try { $cmdline = [IO.File]::ReadAllText("/proc/$p/cmdline") } catch { continue }
        if ($cmdline -notmatch 'Serving\.Worker') { continue }
        if ($HostId -and (Get-ProcessEnvironment $p)['SERVING_HOST_ID'] -ne $HostId) { continue }
        $p
    }
}

function Get-ListeningTcp {
    <# .SYNOPSIS Listening IPv4 TCP sockets from /proc/net/tcp: Ip and Port. #>
    foreach ($line in Get-Content /proc/net/tcp | Select-Object -Skip 1) {
        $f = $line.Trim() -split '\s+'
        if ($f[3] -ne '0A') { continue } # TCP_LISTEN
        $hexAddr, $hexPort = $f[1] -split ':'
        $bytes = [Convert]::FromHexString($hexAddr); [array]::Reverse($bytes)
        [pscustomobject]@{ Ip = [System.Net.IPAddress]::new($bytes).ToString(); Port = [Convert]::ToInt32($hexPort, 16) }
    }
}

function Test-PortFree([int] $Port) {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $Port)
    try { $l.Start(); return $true } catch { return $false } finally { $l.Stop() }
}

function Get-FreePort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
    return $port
}

function Start-ChildPwsh {
    <# .SYNOPSIS Runs a script in a separate pwsh process (the same pwsh as this one), stdout captured. #>
    param([Parameter(Mandatory)] [string] $Script, [switch] $RedirectError)
    $exe = [Environment]::ProcessPath
    $info = [System.Diagnostics.ProcessStartInfo]::new($exe)
    if ((Split-Path -Leaf $exe) -like 'dotnet*') { $info.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Script) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = [bool]$RedirectError
    $info.RedirectStandardInput = $true
    $info.UseShellExecute = $false
    $info.Environment['NO_COLOR'] = '1'
    return [System.Diagnostics.Process]::Start($info)
}

function New-FixtureManifest {
    <# .SYNOPSIS A variant of the fixture service's manifest in TestDrive, pointing at the built fixture assembly. #>
    param([string] $Type = 'Serving.Fixture.TextRunner', [string] $Method = 'reverse', [hashtable] $Environment = @{})
    $envText = ($Environment.GetEnumerator() | ForEach-Object { "$($_.Key) = '$($_.Value)'" }) -join '; '
    $path = Join-Path $TestDrive "fixture-$([guid]::NewGuid().ToString('N').Substring(0, 8)).psd1"
    Set-Content -LiteralPath $path -Value @"
@{
    Name       = 'fixture'
    Assemblies = @('$FixtureAssembly')
    Runners    = @(@{ Name = 'text'; Type = '$Type'; Workers = 1; Environment = @{ $envText } })
    Apis       = @(@{ Route = '/reverse'; Runner = 'text'; Method = '$Method'; Input = 'Text'; Output = 'Text' })
}
"@
    return $path
}

function Start-ContainerizedForegroundHost {
    <#
    .SYNOPSIS Starts `Start-ServingHost -Wait` in a child pwsh as a container's main process would
    (SERVING_CONTAINERIZED=true, Start-ServingHost the last statement), stderr captured; returns the
    process once the host answers /readyz 200.
    #>
    param([Parameter(Mandatory)] [int] $Port, [int] $ApiWorkers = 1)
    $child = Start-ChildPwsh @"
`$env:SERVING_CONTAINERIZED = 'true'
Import-Module '$env:SERVING_TEST_MODULE'
Start-ServingHost -Port $Port -HostAddress 127.0.0.1 -ApiWorkers $ApiWorkers -Wait -StopTimeout 5 | Out-Null
"@ -RedirectError
    try {
        Wait-Until -TimeoutSeconds 60 -What 'the foreground host is ready' {
            if ($child.HasExited) { throw "The foreground host exited with code $($child.ExitCode): $($child.StandardError.ReadToEnd())" }
            try { (Invoke-WebRequest "http://127.0.0.1:$Port/readyz" -SkipHttpErrorCheck -TimeoutSec 2).StatusCode -eq 200 } catch { $false }
        }
    }
    catch {
        # Nothing may outlive a test: the child takes its workers with it (their lifeline closes).
        if (-not $child.HasExited) { $child.Kill($true) }
        throw
    }
    return $child
}

function Get-WorkerPidByName {
    <# .SYNOPSIS The pid, among -Pids, of the worker named -Name (from its SERVING_WORKER_NAME). #>
    param([Parameter(Mandatory)] [int[]] $Pids, [Parameter(Mandatory)] [string] $Name)
    $Pids | Where-Object { (Get-ProcessEnvironment $_)['SERVING_WORKER_NAME'] -eq $Name }
}
