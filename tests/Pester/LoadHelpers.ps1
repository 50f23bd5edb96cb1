# Bounded load for the fault suite: wrk against 127.0.0.1 only, for a fixed duration, with
# load.lua counting answers by status. Every load stops by itself; Stop-Load kills one that overran.

$script:LoadScript = Join-Path $PSScriptRoot 'load.lua'

function Start-Load {
    <# .SYNOPSIS Starts wrk in the background: a POST of -Body to -Url for -Seconds over -Connections connections. #>
    param(
        [Parameter(Mandatory)] [string] $Url,
        [string] $Body = 'hello',
        [string] $ContentType = 'application/octet-stream',
        [int] $Seconds = 6,
        [int] $Connections = 16
    )
    if (([uri]$Url).Host -ne '127.0.0.1') { throw "The fault suite loads 127.0.0.1 only, not $Url." }
    $info = [System.Diagnostics.ProcessStartInfo]::new('wrk')
    foreach ($a in '-t2', "-c$Connections", "-d${Seconds}s", '--timeout', '10s', '-s', $LoadScript, $Url, '--', 'POST', $Body, $ContentType) {
        $info.ArgumentList.Add($a)
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    [pscustomobject]@{
        Process = $process
        Output  = $process.StandardOutput.ReadToEndAsync()
        Errors  = $process.StandardError.ReadToEndAsync()
        Seconds = $Seconds
        Started = [DateTime]::UtcNow
    }
}

function Wait-LoadRunning {
    <# .SYNOPSIS Waits until the load has had -Seconds to run (wrk gives no signal of its own). #>
    param([Parameter(Mandatory)] $Load, [double] $Seconds = 1.5)
    $until = $Load.Started.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $until) {
        if ($Load.Process.HasExited) { throw "wrk exited early: $($Load.Errors.Result)$($Load.Output.Result)" }
        Start-Sleep -Milliseconds 50
    }
}

function Complete-Load {
    <#
    .SYNOPSIS Waits for wrk (bounded) and returns what happened to the requests.
    .DESCRIPTION
        Sent: requests that left (answered + reset after send + timed out). Succeeded: 2xx.
        Failed: answered with another status. Reset: sent, then the connection ended before a complete
        answer. Refused: never sent (connect refused, or the server closed first).
    #>
    param([Parameter(Mandatory)] $Load)
    if (-not $Load.Process.WaitForExit(($Load.Seconds + 15) * 1000)) {
        $Load.Process.Kill()
        throw 'wrk did not finish in time.'
    }
    $text = $Load.Output.Result
    $statuses = @{}
    if ($text -match '(?m)^STATUS(.*)$') {
        foreach ($pair in ($Matches[1].Trim() -split '\s+' | Where-Object { $_ })) {
            $code, $count = $pair -split '='
            $statuses[[int]$code] = [int]$count
        }
    }
    if ($text -notmatch '(?m)^ERRORS connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+)') { throw "Unexpected wrk output: $text $($Load.Errors.Result)" }
    $connect, $read, $write, $timeout = [int]$Matches[1], [int]$Matches[2], [int]$Matches[3], [int]$Matches[4]
    $maxLatency = if ($text -match '(?m)^LATENCY max_us=(\d+)') { [int]$Matches[1] / 1000 } else { 0 }
    $answered = ($statuses.Values | Measure-Object -Sum).Sum
    $ok = ($statuses.GetEnumerator() | Where-Object { $_.Key -ge 200 -and $_.Key -lt 300 } | ForEach-Object Value | Measure-Object -Sum).Sum
    [pscustomobject]@{
        Sent         = [int]($answered + $read + $timeout)
        Succeeded    = [int]$ok
        Failed       = [int]($answered - $ok)
        Reset        = $read
        Refused      = $connect + $write
        TimedOut     = $timeout
        Statuses     = $statuses
        MaxLatencyMs = [math]::Round($maxLatency, 1)
    }
}

function Add-FaultResult {
    <# .SYNOPSIS Records one scenario's line for the suite's summary table. #>
    param([Parameter(Mandatory)] [string] $Scenario, $Load, [int] $Sent, [int] $Succeeded, [int] $Failed, [string] $Note = '')
    if ($Load) { $Sent = $Load.Sent; $Succeeded = $Load.Succeeded; $Failed = $Load.Failed + $Load.Reset + $Load.TimedOut }
    $script:FaultResults.Add([pscustomobject]@{
            Scenario  = $Scenario
            Sent      = $Sent
            Succeeded = $Succeeded
            Failed    = $Failed
            Reset     = if ($Load) { $Load.Reset } else { 0 }
            Refused   = if ($Load) { $Load.Refused } else { 0 }
            Note      = $Note
        })
}

function Format-Statuses($Load) {
    ($Load.Statuses.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)x$($_.Value)" }) -join ' '
}
