<#
.SYNOPSIS
    Measures a running host with wrk and prints a table (build.ps1 -Task Bench). Not a test: numbers
    depend on the machine. Every load goes to 127.0.0.1 only and stops by itself after -Seconds.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [int] $Seconds = 10,
    [int] $Connections = 64,
    [int] $ApiWorkers = 0
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
if (-not (Get-Command wrk -ErrorAction Ignore)) { throw 'wrk is not installed (apt-get install wrk).' }

$lua = Join-Path ([IO.Path]::GetTempPath()) "serving-bench-$PID.lua"
function Measure-Route([string] $Url, [string] $Body, [string] $ContentType) {
    Set-Content -LiteralPath $lua -Value @"
wrk.method = "POST"
wrk.body = '$Body'
wrk.headers["Content-Type"] = "$ContentType"
"@
    # Warm up first: the workers' JIT tiers up under load, and the first seconds are not the steady state.
    $null = & wrk -t2 "-c$Connections" -d3s -s $lua $Url 2>&1
    $out = & wrk -t2 "-c$Connections" "-d${Seconds}s" --latency -s $lua $Url 2>&1 | Out-String
    $rps = if ($out -match 'Requests/sec:\s+([\d.]+)') { [double]$Matches[1] } else { 0 }
    $p50 = if ($out -match '50%\s+([\d.]+\w+)') { $Matches[1] } else { '?' }
    $p99 = if ($out -match '99%\s+([\d.]+\w+)') { $Matches[1] } else { '?' }
    $errors = if ($out -match 'Non-2xx or 3xx responses:\s+(\d+)') { [int]$Matches[1] } else { 0 }
    [pscustomobject]@{ Route = ([uri]$Url).AbsolutePath; 'Req/s' = [math]::Round($rps); P50 = $p50; P99 = $p99; Non2xx = $errors }
}

$params = @{ Port = 0; HostAddress = '127.0.0.1' }
if ($ApiWorkers -gt 0) { $params.ApiWorkers = $ApiWorkers }
$job = Start-ServingHost @params
try {
    $info = Get-ServingHost -Name $job.Name
    "Host: $($info.Url), $(@($info.Workers | Where-Object Role -EQ 'Api').Count) API workers, transport $($info.Transport), wrk -c$Connections -d${Seconds}s"
    @(
        Measure-Route "$($info.Url)/echo" 'hello' 'application/octet-stream'
        Measure-Route "$($info.Url)/classify" '{"features":[5.1,3.5,1.4,0.2]}' 'application/json'
    ) | Format-Table -AutoSize | Out-String -Width 120
}
finally {
    Stop-ServingHost -Name $job.Name -Timeout 5
    Remove-Item -ErrorAction Ignore $lua
}
