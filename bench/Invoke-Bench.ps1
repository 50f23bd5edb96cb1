<#
.SYNOPSIS
    Measures the demo service side by side in one run (build.ps1 -Task Bench) and prints a Markdown
    table with the goals of issue 14; writes every raw measurement to bench/results/<time>.json.
.DESCRIPTION
    Configurations, started afresh in each round and alternated (the order reversed every other round)
    because the machine is shared and noisy; each figure is the median over the rounds:
      development  -Development: one process, no hop - the ceiling
      uds          production, -ApiWorkers 2 -Transport Uds
      tcp          production, -ApiWorkers 2 -Transport Tcp
      nobatch      as uds, with a temporary copy of the demo manifest whose /classify has MaxBatchSize = 1
                   (n/a when the staged module refuses the key)
      grpc         production -Protocol Grpc (UDS), serving.v1.Serving/Call measured with h2load
    Each round first measures the socket floor (bench/SocketFloor): two bare .NET processes passing a
    call-sized message, then 256 KiB, back and forth over UDS and over loopback TCP - what the hop cannot
    go below on this machine, and whether UDS beats TCP here at all.
    Loads, each after a warm-up of every route: c=64 (wrk -t2 -c64) req/s and c=1 (wrk -t1 -c1) p50/p99
    latency, for /echo (5 bytes) and /classify (one flower). Non-2xx answers and socket errors are
    counted and shown: a goal whose measurement had errors is not judged.
    Then, without load: Start-ServingHost to ready (median of -StartSamples starts, production and
    development) and a runner worker's SIGKILL to a replacement serving /classify (-Respawn Always).
    RSS (VmRSS) of every worker is read after the loads of each configuration.
    Everything goes to 127.0.0.1, every load stops by itself after -Seconds (and is killed if it
    overruns), and every host started here is stopped in a finally block. Not a test.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    # Duration of each measured load.
    [ValidateRange(1, 60)] [int] $Seconds = 5,
    # Duration of the warm-up load of each route of each host (0: none).
    [ValidateRange(0, 30)] [int] $WarmupSeconds = 2,
    # Rounds of the alternated configurations; figures are medians over the rounds.
    [ValidateRange(1, 9)] [int] $Rounds = 2,
    [ValidateRange(1, 16)] [int] $ApiWorkers = 2,
    # Starts measured for the ready time (and kills for the respawn time).
    [ValidateRange(1, 9)] [int] $StartSamples = 3,
    # A configuration whose turn would end after this many seconds of the run is skipped.
    [int] $BudgetSeconds = 520,
    [string] $ResultsDirectory = (Join-Path $PSScriptRoot 'results')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModuleManifest = (Resolve-Path -LiteralPath $ModuleManifest).Path
Import-Module $ModuleManifest -Force

$RunClock = [Diagnostics.Stopwatch]::StartNew()
$Utf8 = [Text.UTF8Encoding]::new($false)
$TempDir = Join-Path ([IO.Path]::GetTempPath()) "serving-bench-$PID"
$script:Jobs = [Collections.Generic.List[object]]::new()
$Http = [Net.Http.HttpClient]::new()
$Http.Timeout = [TimeSpan]::FromSeconds(10)

$Routes = [ordered]@{
    echo     = @{ Path = '/echo'; Body = 'hello'; ContentType = 'application/octet-stream'; GrpcInputField = 4; GrpcOutputField = 3; Expect = 'hello' }
    classify = @{ Path = '/classify'; Body = '{"features":[5.1,3.5,1.4,0.2]}'; ContentType = 'application/json'; GrpcInputField = 2; GrpcOutputField = 1; Expect = '"label":"setosa"' }
}

#region tools and processes

function Install-LoadTool {
    <# .SYNOPSIS Installs wrk, h2load and curl with apt-get when one is missing (as root only). #>
    $missing = @(
        @{ Command = 'wrk'; Package = 'wrk' }
        @{ Command = 'h2load'; Package = 'nghttp2-client' }
        @{ Command = 'curl'; Package = 'curl' }
    ) | Where-Object { -not (Get-Command $_.Command -ErrorAction Ignore) }
    if (-not $missing) { return }
    $packages = @($missing | ForEach-Object Package)
    if ((& id -u) -ne '0') { throw "Missing $($packages -join ', '): install them (apt-get install $($packages -join ' ')) or run as root." }
    Write-Host "Installing $($packages -join ', ') with apt-get"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get update -qq | Out-Null
    & apt-get install -y -qq --no-install-recommends @packages | Out-Null
    foreach ($m in $missing) { if (-not (Get-Command $m.Command -ErrorAction Ignore)) { throw "apt-get did not install $($m.Command) ($($m.Package))." } }
}

function Invoke-Bounded {
    <# .SYNOPSIS Runs a program with arguments (no shell), killed if it runs past -TimeoutSeconds; returns its exit code and output. #>
    param([string] $File, [string[]] $Arguments, [int] $TimeoutSeconds, [hashtable] $Environment = @{})
    $info = [Diagnostics.ProcessStartInfo]::new($File)
    foreach ($a in $Arguments) { $info.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $info.Environment[$k] = $Environment[$k] }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $timedOut = -not $process.WaitForExit($TimeoutSeconds * 1000)
    if ($timedOut) { $process.Kill($true); $null = $process.WaitForExit(5000) }
    [pscustomobject]@{
        ExitCode = if ($timedOut) { -1 } else { $process.ExitCode }
        TimedOut = $timedOut
        Output   = $stdout.Result
        Error    = $stderr.Result
    }
}

function Get-ProcField([int] $ProcessId) {
    <# .SYNOPSIS The fields of /proc/<pid>/stat after the command name (state first), or $null. #>
    try { $text = [IO.File]::ReadAllText("/proc/$ProcessId/stat") } catch { return $null }
    return $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
}

function Test-Alive([int] $ProcessId) {
    $f = Get-ProcField $ProcessId
    return [bool]($f -and $f[0] -ne 'Z')
}

function Get-WorkerProcess {
    <# .SYNOPSIS Live Serving.Worker processes that are children of this pwsh (the supervisor runs here). #>
    foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        $f = Get-ProcField ([int]$name)
        if (-not $f -or $f[0] -eq 'Z' -or [int]$f[1] -ne $PID) { continue }
        try { $cmdline = [IO.File]::ReadAllText("$dir/cmdline") } catch { continue }
        if ($cmdline -match 'Serving\.Worker') { [int]$name }
    }
}

function Get-Memory([int] $ProcessId) {
    <#
    .SYNOPSIS VmRSS, VmHWM and the private part of RSS of a process in kB, from /proc/<pid>/status.
    Private: RssAnon + RssShmem, the worker's own heap, buffers and JIT'd code (.NET keeps JIT'd code in
    a memfd it maps twice, W^X: shmem). The rest, RssFile, is the .NET and ASP.NET Core files mapped into
    every worker: counted in full in each one's RSS, held once in RAM.
    #>
    try { $text = [IO.File]::ReadAllText("/proc/$ProcessId/status") } catch { return $null }
    $kb = { param($Field) if ($text -match "(?m)^${Field}:\s+(\d+)") { [int]$Matches[1] } else { $null } }
    $anon = & $kb 'RssAnon'
    [pscustomobject]@{
        RssKb     = & $kb 'VmRSS'
        PeakKb    = & $kb 'VmHWM'
        PrivateKb = if ($null -ne $anon) { $anon + [int](& $kb 'RssShmem') } else { $null }
    }
}

function Get-FreePort {
    $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
    return $port
}

function Get-Median([object[]] $Values) {
    $v = @($Values | Where-Object { $null -ne $_ } | ForEach-Object { [double]$_ } | Sort-Object)
    if ($v.Count -eq 0) { return $null }
    $m = [int][math]::Floor($v.Count / 2)
    if ($v.Count % 2) { return $v[$m] }
    return ($v[$m - 1] + $v[$m]) / 2
}

function Get-Percentile([double[]] $Sorted, [double] $P) {
    <# .SYNOPSIS Nearest-rank percentile of an already sorted array. #>
    if ($Sorted.Count -eq 0) { return $null }
    return $Sorted[[math]::Max(0, [int][math]::Ceiling($P / 100 * $Sorted.Count) - 1)]
}

#endregion

#region hosts

function Start-BenchHost {
    <# .SYNOPSIS Starts a host; returns the job and the host's info, or the error that refused it. #>
    param([hashtable] $Parameters)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    try {
        $job = Start-ServingHost @Parameters -ErrorAction Stop
    }
    catch {
        return [pscustomobject]@{ Job = $null; Info = $null; StartMs = $clock.Elapsed.TotalMilliseconds; Error = "$_" }
    }
    $startMs = $clock.Elapsed.TotalMilliseconds
    $script:Jobs.Add($job)
    $info = Get-ServingHost -Id $job.Host.Id
    [pscustomobject]@{ Job = $job; Info = $info; StartMs = $startMs; Error = $null }
}

function Stop-BenchHost($Job) {
    <# .SYNOPSIS Stops a host started here (draining at most 5 s) and forgets its job. #>
    if (-not $Job) { return }
    try { Stop-ServingHost -InputObject $Job -Timeout 5 -ErrorAction Stop } catch { Write-Warning "Stopping host $($Job.Name): $_" }
    Remove-Job -Job $Job -Force -ErrorAction Ignore
    $null = $script:Jobs.Remove($Job)
}

function Get-WorkerMemory($Job) {
    <# .SYNOPSIS RSS of every worker of a host: name, role, pid, VmRSS and VmHWM in kB. #>
    foreach ($w in (Get-ServingHost -Id $Job.Host.Id).Workers) {
        $mem = Get-Memory $w.Pid
        [pscustomobject]@{ Name = $w.Name; Role = "$($w.Role)"; Pid = $w.Pid; RssKb = $mem.RssKb; PeakKb = $mem.PeakKb; PrivateKb = $mem.PrivateKb }
    }
}

function Invoke-Post([string] $Url, [hashtable] $Route) {
    <# .SYNOPSIS One POST with HttpClient: status code and body text (status 0 and the error when it failed). #>
    $content = [Net.Http.ByteArrayContent]::new($Utf8.GetBytes($Route.Body))
    $content.Headers.ContentType = [Net.Http.Headers.MediaTypeHeaderValue]::Parse($Route.ContentType)
    try {
        $response = $Http.PostAsync("$Url$($Route.Path)", $content).GetAwaiter().GetResult()
        $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        return [pscustomobject]@{ Status = [int]$response.StatusCode; Body = $text }
    }
    catch { return [pscustomobject]@{ Status = 0; Body = $_.Exception.GetBaseException().Message } }
}

function Test-HttpRoute([string] $Url, [hashtable] $Route) {
    <# .SYNOPSIS $null when the route answers 200 with the expected body, else what is wrong. #>
    $r = Invoke-Post $Url $Route
    if ($r.Status -eq 200 -and $r.Body.Contains($Route.Expect)) { return $null }
    return "POST $($Route.Path): status $($r.Status), body $($r.Body.Substring(0, [math]::Min(200, $r.Body.Length)))"
}

#endregion

#region gRPC framing (serving.v1, module/proto/serving.proto)

function Add-Varint([Collections.Generic.List[byte]] $To, [long] $Value) {
    while ($Value -ge 0x80) { $To.Add([byte](($Value -band 0x7F) -bor 0x80)); $Value = $Value -shr 7 }
    $To.Add([byte]$Value)
}

function New-GrpcCallFrame([string] $Api, [int] $InputField, [byte[]] $Payload) {
    <# .SYNOPSIS A gRPC message frame (flag 0, big-endian length) of serving.v1.CallRequest { api, <input field> }. #>
    $msg = [Collections.Generic.List[byte]]::new()
    $apiBytes = $Utf8.GetBytes($Api)
    Add-Varint $msg ((1 -shl 3) -bor 2); Add-Varint $msg $apiBytes.Length; $msg.AddRange($apiBytes)
    Add-Varint $msg (($InputField -shl 3) -bor 2); Add-Varint $msg $Payload.Length; $msg.AddRange($Payload)
    $frame = [Collections.Generic.List[byte]]::new()
    $frame.Add(0)
    foreach ($shift in 24, 16, 8, 0) { $frame.Add([byte](($msg.Count -shr $shift) -band 0xFF)) }
    $frame.AddRange($msg)
    return , $frame.ToArray()
}

function Read-GrpcReply([byte[]] $Bytes) {
    <# .SYNOPSIS The field number and payload of a one-field serving.v1.CallReply frame, or $null. #>
    if ($Bytes.Length -lt 7 -or $Bytes[0] -ne 0) { return $null }
    $length = ([int]$Bytes[1] -shl 24) -bor ([int]$Bytes[2] -shl 16) -bor ([int]$Bytes[3] -shl 8) -bor [int]$Bytes[4]
    if ($Bytes.Length -ne 5 + $length) { return $null }
    $i = 5; $tag = 0; $shift = 0
    do { $b = $Bytes[$i++]; $tag = $tag -bor (($b -band 0x7F) -shl $shift); $shift += 7 } while ($b -band 0x80)
    $n = 0; $shift = 0
    do { $b = $Bytes[$i++]; $n = $n -bor (($b -band 0x7F) -shl $shift); $shift += 7 } while ($b -band 0x80)
    if (($tag -band 7) -ne 2 -or $i + $n -ne $Bytes.Length) { return $null }
    [pscustomobject]@{ Field = $tag -shr 3; Text = $Utf8.GetString($Bytes, $i, $n); FrameBytes = $Bytes.Length }
}

function Test-GrpcRoute([string] $Authority, [string] $RouteName, [hashtable] $Route, [string] $BodyFile) {
    <# .SYNOPSIS One call with curl over h2c: the reply frame's size, or the error (grpc-status, body) that makes the front door unmeasurable. #>
    $headers = Join-Path $TempDir "grpc-$RouteName.headers"
    $reply = Join-Path $TempDir "grpc-$RouteName.reply"
    $r = Invoke-Bounded curl @('-sS', '--http2-prior-knowledge', '--max-time', '10', '-D', $headers, '-o', $reply,
        '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', "@$BodyFile",
        "http://$Authority/serving.v1.Serving/Call") 15
    if ($r.ExitCode -ne 0) { return [pscustomobject]@{ Error = "curl exit $($r.ExitCode): $($r.Error.Trim())"; ReplyBytes = 0 } }
    $headerText = [IO.File]::ReadAllText($headers)
    $status = if ($headerText -match '(?mi)^grpc-status:\s*(\d+)') { [int]$Matches[1] } else { $null }
    if ($status -ne 0) { return [pscustomobject]@{ Error = "grpc-status $status ($(($headerText -split "`r?`n" | Where-Object { $_ -match '^grpc-message' }) -join ' '))"; ReplyBytes = 0 } }
    $decoded = Read-GrpcReply ([IO.File]::ReadAllBytes($reply))
    if (-not $decoded -or $decoded.Field -ne $Route.GrpcOutputField -or -not $decoded.Text.Contains($Route.Expect)) {
        return [pscustomobject]@{ Error = "grpc-status 0 but an unexpected reply for $RouteName"; ReplyBytes = 0 }
    }
    [pscustomobject]@{ Error = $null; ReplyBytes = $decoded.FrameBytes }
}

#endregion

#region loads

function Measure-Wrk {
    <# .SYNOPSIS One wrk load: POST of the route's body for -Seconds; req/s, latency percentiles (µs), non-2xx and socket errors. #>
    param([string] $Url, [hashtable] $Route, [int] $Connections, [int] $Seconds)
    $threads = [math]::Min(2, $Connections)
    $arguments = @("-t$threads", "-c$Connections", "-d${Seconds}s", '--timeout', '5s')
    if ($Connections -eq 1) { $arguments += '--latency' }
    $arguments += '-s', $script:WrkScript, "$Url$($Route.Path)", '--', 'POST', $Route.Body, $Route.ContentType
    $r = Invoke-Bounded wrk $arguments ($Seconds + 20)
    $m = [ordered]@{
        Tool = 'wrk'; Route = $Route.Path; Connections = $Connections; Threads = $threads; Seconds = $Seconds
        Requests = $null; RequestsPerSecond = $null; P50Us = $null; P90Us = $null; P99Us = $null; MaxUs = $null; MeanUs = $null
        Non2xx = 0; SocketErrors = 0; ErrorDetail = ''; Failed = $null; Output = $r.Output
    }
    if ($r.Output -notmatch '(?m)^BENCH requests=(\d+) duration_us=(\d+) non2xx=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+) p50_us=(\d+) p90_us=(\d+) p99_us=(\d+) max_us=(\d+) mean_us=([\d.]+)') {
        $m.Failed = "wrk exit $($r.ExitCode)$(if ($r.TimedOut) { ' (killed: overran)' }): $($r.Error.Trim()) $($r.Output.Trim())"
        return [pscustomobject]$m
    }
    $m.Requests = [long]$Matches[1]
    $m.RequestsPerSecond = [math]::Round([long]$Matches[1] / ([double]$Matches[2] / 1e6), 1)
    $m.Non2xx = [int]$Matches[3]
    $m.SocketErrors = [int]$Matches[4] + [int]$Matches[5] + [int]$Matches[6] + [int]$Matches[7]
    $m.ErrorDetail = "connect=$($Matches[4]) read=$($Matches[5]) write=$($Matches[6]) timeout=$($Matches[7])"
    $m.P50Us = [int]$Matches[8]; $m.P90Us = [int]$Matches[9]; $m.P99Us = [int]$Matches[10]; $m.MaxUs = [int]$Matches[11]; $m.MeanUs = [double]$Matches[12]
    $m.Output = $null # parsed; the BENCH line holds it all
    return [pscustomobject]$m
}

function Measure-H2load {
    <#
    .SYNOPSIS One h2load load of serving.v1.Serving/Call (one stream per connection) for -Seconds.
    .DESCRIPTION h2load counts HTTP statuses only; a gRPC error is an HTTP 200 without a reply message,
    so the DATA bytes received are checked against the reply frame's size: every reply short is an error.
    #>
    param([string] $Authority, [string] $RouteName, [string] $BodyFile, [int] $ReplyBytes, [int] $Connections, [int] $Seconds)
    $threads = [math]::Min(2, $Connections)
    $log = Join-Path $TempDir "h2load-$RouteName-c$Connections.log"
    Remove-Item -LiteralPath $log -ErrorAction Ignore
    $arguments = @("-t$threads", "-c$Connections", '-m1', '-D', "$Seconds", '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', $BodyFile)
    if ($Connections -eq 1) { $arguments += "--log-file=$log" }
    $arguments += "http://$Authority/serving.v1.Serving/Call"
    $r = Invoke-Bounded h2load $arguments ($Seconds + 20)
    $m = [ordered]@{
        Tool = 'h2load'; Route = "grpc:$RouteName"; Connections = $Connections; Threads = $threads; Seconds = $Seconds
        Requests = $null; RequestsPerSecond = $null; P50Us = $null; P90Us = $null; P99Us = $null; MaxUs = $null; MeanUs = $null
        Non2xx = 0; SocketErrors = 0; ErrorDetail = ''; Failed = $null; Output = $r.Output
    }
    $o = $r.Output
    if ($o -notmatch 'finished in [\d.]+m?s, ([\d.]+) req/s' -or $o -notmatch 'requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout') {
        $m.Failed = "h2load exit $($r.ExitCode)$(if ($r.TimedOut) { ' (killed: overran)' }): $($r.Error.Trim()) $($o.Trim())"
        return [pscustomobject]$m
    }
    $null = $o -match 'finished in [\d.]+m?s, ([\d.]+) req/s'; $m.RequestsPerSecond = [double]$Matches[1]
    $null = $o -match 'requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout'
    $done = [long]$Matches[3]; $succeeded = [long]$Matches[4]; $failed = [long]$Matches[5]; $errored = [long]$Matches[6]; $timeouts = [long]$Matches[7]
    $m.Requests = $done
    $non2xx = if ($o -match 'status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx') { [long]$Matches[2] + [long]$Matches[3] + [long]$Matches[4] } else { 0 }
    $data = if ($o -match 'traffic: .*?\((\d+)\) data') { [long]$Matches[1] } else { 0 }
    $short = if ($ReplyBytes -gt 0) { [math]::Max(0, $succeeded - [math]::Floor($data / $ReplyBytes)) } else { 0 }
    $m.Non2xx = [int]($non2xx + $short)
    $m.SocketErrors = [int]($errored + $timeouts)
    $m.ErrorDetail = "failed=$failed errored=$errored timeout=$timeouts non2xx=$non2xx replies-without-message=$short"
    if ($Connections -eq 1 -and (Test-Path -LiteralPath $log)) {
        $us = [double[]]@([IO.File]::ReadAllLines($log) | ForEach-Object { [double]($_.Split("`t")[2]) })
        [array]::Sort($us)
        if ($us.Count) {
            $m.P50Us = [int](Get-Percentile $us 50); $m.P90Us = [int](Get-Percentile $us 90); $m.P99Us = [int](Get-Percentile $us 99)
            $m.MaxUs = [int]$us[-1]; $m.MeanUs = [math]::Round(($us | Measure-Object -Average).Average, 1)
        }
    }
    $m.Output = $null
    return [pscustomobject]$m
}

function Format-LoadLine($M) {
    if ($M.Failed) { return "$($M.Route) c=$($M.Connections): FAILED $($M.Failed)" }
    $errors = if ($M.Non2xx + $M.SocketErrors) { "  ERRORS non2xx=$($M.Non2xx) $($M.ErrorDetail)" } else { '' }
    if ($M.Connections -eq 1) { return "$($M.Route) c=1: p50 $($M.P50Us) µs, p99 $($M.P99Us) µs ($([math]::Round($M.RequestsPerSecond)) req/s)$errors" }
    return "$($M.Route) c=$($M.Connections): $([math]::Round($M.RequestsPerSecond)) req/s$errors"
}

function Build-SocketFloor {
    <# .SYNOPSIS Builds bench/SocketFloor into the temporary directory; returns its executable, or $null and a warning. #>
    $out = Join-Path $TempDir 'socketfloor'
    $r = Invoke-Bounded dotnet @('build', (Join-Path $PSScriptRoot 'SocketFloor/SocketFloor.csproj'), '-c', 'Release', '-o', $out, '-nologo', '-v', 'q') 180
    $exe = Join-Path $out 'SocketFloor'
    if ($r.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $exe)) { Write-Warning "SocketFloor did not build: $($r.Output.Trim()) $($r.Error.Trim())"; return $null }
    return $exe
}

function Measure-SocketFloor {
    <#
    .SYNOPSIS The round trip of two bare .NET processes over a UDS or loopback TCP socket (bench/SocketFloor):
    the floor under the runner hop on this machine. -Bytes 0: a /classify call's sizes; else that many both ways.
    #>
    param([string] $Exe, [string] $Transport, [int] $Bytes, [int] $Round)
    $arguments = @($Transport, $(if ($Bytes) { '5000' } else { '20000' }))
    if ($Bytes) { $arguments += "$Bytes" }
    # The workers' own setting (the worker's Program sets it unless the environment does).
    $r = Invoke-Bounded $Exe $arguments 60 @{ DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS = '1' }
    $m = [ordered]@{ Transport = $Transport; Bytes = $Bytes; Round = $Round; P50Us = $null; P90Us = $null; P99Us = $null; Failed = $null }
    try {
        $j = $r.Output.Trim() | ConvertFrom-Json
        $m.P50Us = [double]$j.p50Us; $m.P90Us = [double]$j.p90Us; $m.P99Us = [double]$j.p99Us
    }
    catch { $m.Failed = "exit $($r.ExitCode): $($r.Error.Trim()) $($r.Output.Trim())" }
    return [pscustomobject]$m
}

#endregion

#region configurations

function New-NoBatchManifest {
    <# .SYNOPSIS A temporary copy of the staged demo manifest whose /classify API has MaxBatchSize = 1 (assembly paths made absolute). #>
    $demoDir = Join-Path (Split-Path -Parent (Resolve-Path $ModuleManifest)) 'demo'
    $manifest = Import-PowerShellDataFile (Join-Path $demoDir 'Demo.psd1')
    $manifest.Assemblies = @($manifest.Assemblies | ForEach-Object { if ([IO.Path]::IsPathRooted($_)) { $_ } else { Join-Path $demoDir $_ } })
    foreach ($api in $manifest.Apis) { if ($api.Route -eq '/classify') { $api.MaxBatchSize = 1 } }
    $path = Join-Path $TempDir 'Demo-MaxBatchSize1.psd1'
    [IO.File]::WriteAllText($path, (ConvertTo-Psd1 $manifest))
    return $path
}

function ConvertTo-Psd1($Value) {
    <# .SYNOPSIS PowerShell data text for hashtables, arrays, strings, numbers and booleans. #>
    if ($Value -is [Collections.IDictionary]) {
        return '@{ ' + (($Value.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key) = $(ConvertTo-Psd1 $_.Value)" }) -join '; ') + ' }'
    }
    if ($Value -is [Array]) { return '@(' + (($Value | ForEach-Object { ConvertTo-Psd1 $_ }) -join ', ') + ')' }
    if ($Value -is [bool]) { return $(if ($Value) { '$true' } else { '$false' }) }
    if ($Value -is [int] -or $Value -is [long] -or $Value -is [double]) { return [string]::Format([cultureinfo]::InvariantCulture, '{0}', $Value) }
    return "'" + ([string]$Value).Replace("'", "''") + "'"
}

function Get-Configurations {
    $common = @{ HostAddress = '127.0.0.1' }
    [ordered]@{
        development = @{ Label = 'development (one process)'; Parameters = $common + @{ Port = 0; Development = $true }; Routes = @('echo', 'classify'); Grpc = $false }
        uds         = @{ Label = "production UDS, $ApiWorkers API workers"; Parameters = $common + @{ Port = 0; ApiWorkers = $ApiWorkers; Transport = 'Uds' }; Routes = @('echo', 'classify'); Grpc = $false }
        tcp         = @{ Label = "production TCP, $ApiWorkers API workers"; Parameters = $common + @{ Port = 0; ApiWorkers = $ApiWorkers; Transport = 'Tcp' }; Routes = @('echo', 'classify'); Grpc = $false }
        nobatch     = @{ Label = 'production UDS, /classify MaxBatchSize = 1 (batching off)'; Parameters = $common + @{ Port = 0; ApiWorkers = $ApiWorkers; Transport = 'Uds'; Service = $script:NoBatchManifest }; Routes = @('classify'); Grpc = $false }
        grpc        = @{ Label = "gRPC front door, production UDS, $ApiWorkers API workers (h2load)"; Parameters = $common + @{ ApiWorkers = $ApiWorkers; Transport = 'Uds'; Protocol = 'Grpc' }; Routes = @('echo', 'classify'); Grpc = $true }
    }
}

function Invoke-Configuration {
    <# .SYNOPSIS One turn of one configuration: start, check, warm up, measure, read RSS, stop. #>
    param([string] $Key, [hashtable] $Config, [int] $Round)
    $turn = [ordered]@{ Config = $Key; Round = $Round; Status = 'ok'; Error = $null; StartMs = $null; Host = $null; Measurements = [Collections.Generic.List[object]]::new(); Warmups = [Collections.Generic.List[object]]::new(); Workers = @() }
    $parameters = $Config.Parameters.Clone()
    if ($Config.Grpc) { $parameters.Port = Get-FreePort } # production gRPC: every worker binds the port itself
    Write-Host "round $Round - $($Config.Label)"
    $started = Start-BenchHost $parameters
    $turn.StartMs = [math]::Round($started.StartMs)
    if ($started.Error) {
        $turn.Status = if ($Key -eq 'nobatch' -and $started.Error -match 'MaxBatchSize') { 'unsupported' } else { 'failed to start' }
        $turn.Error = $started.Error
        Write-Host "  $($turn.Status): $($started.Error)"
        return [pscustomobject]$turn
    }
    try {
        $info = $started.Info
        $turn.Host = [ordered]@{ Url = $info.Url; Mode = "$($info.Mode)"; Protocol = "$($info.Protocol)"; Transport = "$($info.Transport)"; Workers = @($info.Workers | ForEach-Object { "$($_.Name)/$($_.Role)/$($_.Pid)" }) }
        $authority = ([uri]$info.Url).Authority
        # Check every route answers correctly before loading it: a fast error is not a result.
        $targets = [ordered]@{}
        foreach ($name in $Config.Routes) {
            $route = $Routes[$name]
            if ($Config.Grpc) {
                $bodyFile = Join-Path $TempDir "grpc-$name.request"
                [IO.File]::WriteAllBytes($bodyFile, (New-GrpcCallFrame $name $route.GrpcInputField $Utf8.GetBytes($route.Body)))
                $check = Test-GrpcRoute $authority $name $route $bodyFile
                if ($check.Error) { $turn.Status = 'check failed'; $turn.Error += "grpc $name`: $($check.Error); "; continue }
                $targets[$name] = @{ BodyFile = $bodyFile; ReplyBytes = $check.ReplyBytes }
            }
            else {
                $problem = Test-HttpRoute $info.Url $route
                if ($problem) { $turn.Status = 'check failed'; $turn.Error += "$problem; "; continue }
                $targets[$name] = @{}
            }
        }
        if ($turn.Error) { Write-Host "  $($turn.Error)" }
        $load = {
            param([string] $Name, [int] $Connections, [int] $Duration)
            if ($Config.Grpc) { Measure-H2load $authority $Name $targets[$Name].BodyFile $targets[$Name].ReplyBytes $Connections $Duration }
            else { Measure-Wrk $info.Url $Routes[$Name] $Connections $Duration }
        }
        if ($WarmupSeconds -gt 0) {
            # The JIT tiers up under load: the first seconds are not the steady state.
            foreach ($name in $targets.Keys) { $turn.Warmups.Add((& $load $name 64 $WarmupSeconds)) }
        }
        foreach ($connections in 64, 1) {
            foreach ($name in $targets.Keys) {
                $m = & $load $name $connections $Seconds
                $turn.Measurements.Add($m)
                Write-Host "  $(Format-LoadLine $m)"
            }
        }
        $turn.Workers = @(Get-WorkerMemory $started.Job)
        Write-Host "  RSS MB: $(($turn.Workers | ForEach-Object { '{0} {1:N1}' -f $_.Name, ($_.RssKb / 1024) }) -join ', ')"
    }
    catch {
        $turn.Status = 'failed'
        $turn.Error += "$_"
        Write-Host "  failed: $_"
    }
    finally {
        Stop-BenchHost $started.Job
    }
    return [pscustomobject]$turn
}

function Measure-StartAndRespawn {
    <#
    .SYNOPSIS Start-ServingHost to ready (it returns once /readyz answers 200) and to the first /classify
    200; in production also a SIGKILL of the classifier runner to a replacement serving /classify.
    #>
    param([string] $Kind, [int] $Sample)
    $parameters = if ($Kind -eq 'development') { @{ Port = 0; HostAddress = '127.0.0.1'; Development = $true } }
    else { @{ Port = 0; HostAddress = '127.0.0.1'; ApiWorkers = $ApiWorkers; Transport = 'Uds'; Respawn = 'Always' } }
    $s = [ordered]@{ Kind = $Kind; Sample = $Sample; ReadyMs = $null; FirstServedMs = $null; AnswersBeforeServed = @(); RespawnMs = $null; RespawnDetail = $null; Error = $null }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $started = Start-BenchHost $parameters
    if ($started.Error) { $s.Error = $started.Error; return [pscustomobject]$s }
    try {
        $s.ReadyMs = [math]::Round($started.StartMs, 1)
        $url = $started.Info.Url
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        $before = [Collections.Generic.List[int]]::new()
        while (($status = (Invoke-Post $url $Routes.classify).Status) -ne 200) {
            $before.Add($status)
            if ([DateTime]::UtcNow -gt $deadline) { throw '/classify did not answer 200 within 30 s of the start.' }
            Start-Sleep -Milliseconds 5
        }
        $s.FirstServedMs = [math]::Round($clock.Elapsed.TotalMilliseconds, 1)
        $s.AnswersBeforeServed = @($before)
        if ($Kind -eq 'development') { return [pscustomobject]$s }

        $runner = @((Get-ServingHost -Id $started.Job.Host.Id).Workers | Where-Object { "$($_.Role)" -eq 'Runner' -and $_.Runner -eq 'classifier' })[0]
        $statuses = @{}
        $kill = [Diagnostics.Stopwatch]::StartNew()
        & kill -9 $runner.Pid
        while (Test-Alive $runner.Pid) {
            if ($kill.Elapsed.TotalSeconds -gt 5) { throw "pid $($runner.Pid) still alive 5 s after kill -9." }
            Start-Sleep -Milliseconds 1
        }
        while ($true) {
            $status = (Invoke-Post $url $Routes.classify).Status
            $statuses[$status] = 1 + $(if ($statuses.ContainsKey($status)) { $statuses[$status] } else { 0 })
            if ($status -eq 200) { break }
            if ($kill.Elapsed.TotalSeconds -gt 30) { throw "/classify did not answer 200 within 30 s of the runner's kill -9." }
            Start-Sleep -Milliseconds 5
        }
        $s.RespawnMs = [math]::Round($kill.Elapsed.TotalMilliseconds, 1)
        $after = @((Get-ServingHost -Id $started.Job.Host.Id).Workers | Where-Object Name -EQ $runner.Name)[0]
        $s.RespawnDetail = "$($runner.Name): pid $($runner.Pid) -> $($after.Pid), restarts $($after.Restarts); answers while polling: $(($statuses.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)x$($_.Value)" }) -join ' ')"
        if ($after.Pid -eq $runner.Pid) { throw "the 200 came from the killed pid $($runner.Pid)?" }
    }
    catch { $s.Error = "$_" }
    finally { Stop-BenchHost $started.Job }
    return [pscustomobject]$s
}

#endregion

#region report

function Get-Stat {
    <# .SYNOPSIS Medians over the rounds of one configuration's route and concurrency, and the errors summed. #>
    param([object[]] $Turns, [string] $Config, [string] $Route, [int] $Connections, [int] $Round = 0)
    $ms = @($Turns | Where-Object { $_.Config -eq $Config -and ($Round -eq 0 -or $_.Round -eq $Round) } | ForEach-Object Measurements |
            Where-Object { $_.Route -eq $Route -and $_.Connections -eq $Connections -and -not $_.Failed })
    if ($ms.Count -eq 0) { return $null }
    [pscustomobject]@{
        Rps     = Get-Median @($ms | ForEach-Object RequestsPerSecond)
        P50     = Get-Median @($ms | ForEach-Object P50Us)
        P99     = Get-Median @($ms | ForEach-Object P99Us)
        Samples = @($ms | ForEach-Object { $_ })
        Errors  = [int](($ms | ForEach-Object { $_.Non2xx + $_.SocketErrors } | Measure-Object -Sum).Sum)
    }
}

function Format-Cell($Stat, [string] $What) {
    if (-not $Stat) { return '—' }
    $text = switch ($What) {
        'rps' { '{0:N0} ({1})' -f $Stat.Rps, (($Stat.Samples | ForEach-Object { '{0:N0}' -f $_.RequestsPerSecond }) -join ' / ') }
        'lat' { '{0:N0} / {1:N0} ({2})' -f $Stat.P50, $Stat.P99, (($Stat.Samples | ForEach-Object { '{0:N0}' -f $_.P50Us }) -join ' / ') }
    }
    if ($Stat.Errors) { $text += " **$($Stat.Errors) errors**" }
    return $text
}

function Format-Short([string] $Text, [int] $Max = 160) {
    <# .SYNOPSIS One line, no table pipes, at most -Max characters. #>
    $t = ($Text -replace '\s+', ' ' -replace '\|', '/').Trim()
    if ($t.Length -gt $Max) { $t = $t.Substring(0, $Max - 1) + '…' }
    return $t
}

function Get-Goal {
    <#
    .SYNOPSIS One goal line: measured text, target, and met / not met / not judged.
    .DESCRIPTION -Inputs names the figures (name = config, route, connections); -Compute gets them as a
    hashtable of stats and returns the value, its text and whether the goal is met ($null: no target).
    It is judged on the medians over the rounds, and also round by round (each configuration against
    the other in the same round): when the rounds disagree, the result says so.
    #>
    param([object[]] $Turns, [string] $Goal, [string] $Target, [hashtable] $Inputs, [scriptblock] $Compute)
    $stats = @{}
    foreach ($k in $Inputs.Keys) { $i = $Inputs[$k]; $stats[$k] = Get-Stat $Turns $i[0] $i[1] $i[2] }
    if (@($stats.Values | Where-Object { -not $_ }).Count) { return [pscustomobject]@{ Goal = $Goal; Measured = 'not measured'; Target = $Target; Result = 'not judged'; Value = $null } }
    $errors = ($stats.Values | ForEach-Object Errors | Measure-Object -Sum).Sum
    $value, $text, $met = & $Compute $stats
    $result = if ($errors) { "not judged ($errors errors)" } elseif ($null -eq $met) { 'reported' } elseif ($met) { 'met' } else { 'not met' }
    $rounds = @($Turns | ForEach-Object Round | Sort-Object -Unique)
    if ($null -ne $met -and -not $errors -and $rounds.Count -gt 1) {
        $verdicts = foreach ($r in $rounds) {
            $perRound = @{}
            foreach ($k in $Inputs.Keys) { $i = $Inputs[$k]; $perRound[$k] = Get-Stat $Turns $i[0] $i[1] $i[2] -Round $r }
            if (@($perRound.Values | Where-Object { -not $_ }).Count) { continue }
            $null, $null, $m = & $Compute $perRound
            [bool]$m
        }
        $metIn = @($verdicts | Where-Object { $_ }).Count
        if ($metIn -ne 0 -and $metIn -ne @($verdicts).Count) { $result += " (rounds disagree: met in $metIn of $(@($verdicts).Count))" }
    }
    [pscustomobject]@{ Goal = $Goal; Measured = $text; Target = $Target; Result = $result; Value = $value }
}

function New-Report {
    param([object[]] $Turns, [object[]] $Starts, [object[]] $Floors, $Machine, $Configs)
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add("### $($Machine.Date) — commit $($Machine.CommitShort)$(if ($Machine.Dirty) { ' (with uncommitted changes)' })")
    $lines.Add('')
    $lines.Add("$($Machine.Cpu), $($Machine.Nproc) cores, kernel $($Machine.Kernel), .NET $($Machine.DotnetRuntime); load average $($Machine.LoadAverage) at the start, $($Machine.LoadAverageAtEnd) at the end (other work on the machine). " +
        "$Rounds round(s) alternated, each load ${Seconds} s after a ${WarmupSeconds} s warm-up of every route; median over the rounds (each round's req/s or p50 in brackets). " +
        'c=64: `wrk -t2 -c64` (gRPC: `h2load -t2 -c64 -m1`); c=1: `wrk -t1 -c1` (gRPC: `h2load -c1 -m1`), latency p50 / p99 in µs.')
    $lines.Add('')
    $lines.Add('| configuration | /echo c=64 req/s | /classify c=64 req/s | /echo c=1 p50 / p99 µs | /classify c=1 p50 / p99 µs | RSS per worker, MB (max after load; private part in brackets) |')
    $lines.Add('|---|---|---|---|---|---|')
    foreach ($key in $Configs.Keys) {
        $mine = @($Turns | Where-Object Config -EQ $key)
        $label = $Configs[$key].Label
        if ($mine.Count -eq 0) { $lines.Add("| $label | skipped (time budget) | | | | |"); continue }
        $bad = @($mine | Where-Object Status -NE 'ok')
        if ($bad.Count -and @($bad | Where-Object Status -EQ 'unsupported').Count -eq $mine.Count) {
            $lines.Add("| $label | n/a (MaxBatchSize not supported by this build) | | | | |"); continue
        }
        if ($bad.Count -eq $mine.Count -and -not @($mine | ForEach-Object Measurements).Count) {
            $lines.Add("| $label | $($bad[0].Status): $(Format-Short $bad[0].Error) | | | | |"); continue
        }
        $prefix = if ($Configs[$key].Grpc) { 'grpc:' } else { '' }
        $cells = foreach ($c in @(@('/echo', 64, 'rps'), @('/classify', 64, 'rps'), @('/echo', 1, 'lat'), @('/classify', 1, 'lat'))) {
            $route = if ($prefix) { $prefix + $c[0].TrimStart('/') } else { $c[0] }
            Format-Cell (Get-Stat $Turns $key $route $c[1]) $c[2]
        }
        $rss = @($mine | ForEach-Object Workers | Where-Object { $_ -and $_.RssKb } | Group-Object Role | ForEach-Object {
                '{0} {1:N0} ({2:N0})' -f $_.Name, (($_.Group | Measure-Object RssKb -Maximum).Maximum / 1024), (($_.Group | Measure-Object PrivateKb -Maximum).Maximum / 1024) }) -join ', '
        $note = if ($bad.Count) { " ($($bad.Count) of $($mine.Count) rounds: $($bad[0].Status))" } else { '' }
        $lines.Add("| $label$note | $($cells -join ' | ') | $rss |")
    }

    # The floor under the hop: what two bare processes pay for one round trip on this machine's sockets.
    $floor = @{}
    foreach ($t in 'uds', 'tcp') {
        foreach ($bytes in 0, 262144) {
            $ok = @($Floors | Where-Object { $_.Transport -eq $t -and $_.Bytes -eq $bytes -and -not $_.Failed })
            $floor["$t$bytes"] = if ($ok.Count) { [pscustomobject]@{ P50 = Get-Median @($ok.P50Us); P99 = Get-Median @($ok.P99Us); Samples = ($ok | ForEach-Object { '{0:N0}' -f $_.P50Us }) -join ' / ' } } else { $null }
        }
    }
    if (@($Floors).Count) {
        $lines.Add('')
        $lines.Add('Socket floor (`bench/SocketFloor`): two bare .NET processes passing one message back and forth with the workers'' async socket calls — no framing, no HTTP, no model. The hop cannot cost less than this.')
        $lines.Add('')
        $lines.Add('| message | UDS p50 / p99 µs | TCP p50 / p99 µs | UDS lower than TCP by (p50) |')
        $lines.Add('|---|---|---|---|')
        foreach ($bytes in 0, 262144) {
            $u = $floor["uds$bytes"]; $t = $floor["tcp$bytes"]
            $cell = { param($f) if ($f) { '{0:N0} / {1:N0} ({2})' -f $f.P50, $f.P99, $f.Samples } else { 'failed' } }
            $diff = if ($u -and $t) { '{0:P0}' -f (($t.P50 - $u.P50) / $t.P50) } else { '—' }
            $label = if ($bytes) { "$($bytes / 1024) KiB each way" } else { 'a /classify call (72 B) and its reply (96 B)' }
            $lines.Add("| $label | $(& $cell $u) | $(& $cell $t) | $diff |")
        }
    }

    $prodWorkers = @($Turns | Where-Object Config -In 'uds', 'tcp', 'nobatch', 'grpc' | ForEach-Object Workers | Where-Object { $_ -and $_.RssKb })
    $goals = @(
        Get-Goal $Turns 'c=64 /classify: production (UDS) ÷ development' '≥ 0.6×' @{ dev = 'development', '/classify', 64; uds = 'uds', '/classify', 64 } {
            param($s) $r = $s.uds.Rps / $s.dev.Rps; $r, ('{0:N2}× ({1:N0} ÷ {2:N0} req/s)' -f $r, $s.uds.Rps, $s.dev.Rps), ($r -ge 0.6) }
        Get-Goal $Turns 'c=1 /classify p50 hop: production (UDS) − development' '≤ 40 µs' @{ dev = 'development', '/classify', 1; uds = 'uds', '/classify', 1 } {
            param($s) $d = $s.uds.P50 - $s.dev.P50
            $text = '{0:N0} µs ({1:N0} − {2:N0})' -f $d, $s.uds.P50, $s.dev.P50
            if ($floor['uds0']) { $text += '; of which the bare UDS round trip (socket floor) {0:N0} µs, the rest {1:N0} µs' -f $floor['uds0'].P50, ($d - $floor['uds0'].P50) }
            $d, $text, ($d -le 40) }
        Get-Goal $Turns 'c=1 /classify p50: UDS lower than TCP by' '≥ 5%' @{ uds = 'uds', '/classify', 1; tcp = 'tcp', '/classify', 1 } {
            param($s) $p = ($s.tcp.P50 - $s.uds.P50) / $s.tcp.P50
            $text = '{0:P1} (UDS {1:N0} µs, TCP {2:N0} µs)' -f $p, $s.uds.P50, $s.tcp.P50
            if ($floor['uds0'] -and $floor['tcp0']) { $text += '; the bare sockets: UDS {0:N0} µs, TCP {1:N0} µs ({2:P0})' -f $floor['uds0'].P50, $floor['tcp0'].P50, (($floor['tcp0'].P50 - $floor['uds0'].P50) / $floor['tcp0'].P50) }
            $p, $text, ($p -ge 0.05) }
        if (@($Turns | Where-Object { $_.Config -eq 'nobatch' -and $_.Status -eq 'unsupported' }).Count) {
            [pscustomobject]@{ Goal = 'batching on ÷ off (c=64 /classify req/s; c=1 p50)'; Measured = 'n/a (MaxBatchSize not supported by this build)'; Target = '—'; Result = 'n/a'; Value = $null }
        }
        else {
            Get-Goal $Turns 'batching on ÷ off (c=64 /classify req/s; c=1 p50)' '— (reported)' @{ on64 = 'uds', '/classify', 64; off64 = 'nobatch', '/classify', 64; on1 = 'uds', '/classify', 1; off1 = 'nobatch', '/classify', 1 } {
                param($s) $r = $s.on64.Rps / $s.off64.Rps; $r, ('{0:N2}× ({1:N0} ÷ {2:N0} req/s); c=1 p50 {3:N0} vs {4:N0} µs' -f $r, $s.on64.Rps, $s.off64.Rps, $s.on1.P50, $s.off1.P50), $null }
        }
        if ($prodWorkers.Count) {
            $max = ($prodWorkers | Measure-Object RssKb -Maximum).Maximum / 1024
            $worst = ($prodWorkers | Sort-Object RssKb -Descending)[0]
            [pscustomobject]@{ Goal = 'RSS per production worker (max over API and runner workers, all production configurations)'; Measured = ('{0:N1} MB ({1}, {2}; {3:N1} MB of it private, the rest .NET files mapped into every worker)' -f $max, $worst.Name, $worst.Role, ($worst.PrivateKb / 1024)); Target = '≤ 80 MB'; Result = $(if ($max -le 80) { 'met' } else { 'not met' }); Value = $max }
        }
        else { [pscustomobject]@{ Goal = 'RSS per production worker'; Measured = 'not measured'; Target = '≤ 80 MB'; Result = 'not judged'; Value = $null } }
    )
    foreach ($kind in 'production', 'development') {
        $ok = @($Starts | Where-Object { $_.Kind -eq $kind -and $null -ne $_.ReadyMs })
        $failed = @($Starts | Where-Object { $_.Kind -eq $kind -and $_.Error })
        $goals += [pscustomobject]@{
            Goal = "Start-ServingHost to ready, $kind (median of $($ok.Count); first /classify 200 in brackets)"
            Measured = if ($ok.Count) { '{0:N0} ms ({1:N0} ms); samples {2}' -f (Get-Median @($ok.ReadyMs)), (Get-Median @($ok.FirstServedMs)), (($ok | ForEach-Object { '{0:N0}' -f $_.ReadyMs }) -join ', ') } else { 'not measured' }
            Target = '— (reported)'; Result = $(if ($failed.Count) { "$($failed.Count) failed: $($failed[0].Error)" } else { 'reported' }); Value = Get-Median @($ok.ReadyMs)
        }
    }
    $respawn = @($Starts | Where-Object { $_.Kind -eq 'production' -and $null -ne $_.RespawnMs })
    $respawnFailed = @($Starts | Where-Object { $_.Kind -eq 'production' -and $_.Error -and $null -ne $_.ReadyMs })
    $goals += [pscustomobject]@{
        Goal = "runner SIGKILL to a replacement serving /classify (-Respawn Always, median of $($respawn.Count))"
        Measured = if ($respawn.Count) { '{0:N0} ms; samples {1}' -f (Get-Median @($respawn.RespawnMs)), (($respawn | ForEach-Object { '{0:N0}' -f $_.RespawnMs }) -join ', ') } else { 'not measured' }
        Target = '— (reported)'; Result = $(if ($respawnFailed.Count) { "$($respawnFailed.Count) failed: $($respawnFailed[0].Error)" } else { 'reported' }); Value = Get-Median @($respawn.RespawnMs)
    }
    $lines.Add('')
    $lines.Add('| goal (issue 14) | measured | target | result |')
    $lines.Add('|---|---|---|---|')
    foreach ($g in $goals) { $lines.Add("| $($g.Goal) | $($g.Measured) | $($g.Target) | $(Format-Short $g.Result) |") }
    $errorNotes = @(foreach ($t in $Turns) {
            foreach ($m in $t.Measurements) { if ($m.Failed -or $m.Non2xx -or $m.SocketErrors) { "$($t.Config), round $($t.Round): $(Format-LoadLine $m)" } }
            foreach ($m in $t.Warmups) { if ($m.Failed -or $m.Non2xx -or $m.SocketErrors) { "$($t.Config), round $($t.Round), warm-up: $(Format-LoadLine $m)" } }
        })
    if ($errorNotes.Count) {
        $lines.Add('')
        $lines.Add('Loads with errors (counted in the cells above; a goal that depends on them is not judged; warm-ups are not counted):')
        foreach ($note in $errorNotes) { $lines.Add("- $(Format-Short $note 300)") }
    }
    return [pscustomobject]@{ Markdown = ($lines -join "`n"); Goals = $goals }
}

function Get-MachineInfo {
    $repo = Split-Path -Parent $PSScriptRoot
    $commit = (& git -C $repo rev-parse HEAD 2>$null)
    $cpu = (Get-Content /proc/cpuinfo | Where-Object { $_ -match '^model name\s*:' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $runtime = (& dotnet --list-runtimes 2>$null | Where-Object { $_ -match '^Microsoft\.NETCore\.App (\S+)' } | ForEach-Object { ($_ -split ' ')[1] }) -join ', '
    [ordered]@{
        Date          = (Get-Date).ToString('yyyy-MM-dd HH:mm:ss zzz')
        Nproc         = [int](& nproc)
        Cpu           = $cpu
        Kernel        = (& uname -r)
        DotnetSdk     = (& dotnet --version 2>$null)
        DotnetRuntime = $runtime
        PowerShell    = "$($PSVersionTable.PSVersion)"
        Commit        = $commit
        CommitShort   = if ($commit) { $commit.Substring(0, 7) } else { 'unknown' }
        Dirty         = [bool](& git -C $repo status --porcelain --untracked-files=no 2>$null)
        LoadAverage   = ([IO.File]::ReadAllText('/proc/loadavg').Split(' ')[0..2] -join ' ')
        LoadAverageAtEnd = $null
        Wrk           = ((& wrk -v 2>&1 | Select-Object -First 1) -as [string]).Trim()
        H2load        = ((& h2load --version 2>&1 | Select-Object -First 1) -as [string]).Trim()
        Module        = (Resolve-Path $ModuleManifest).Path
    }
}

#endregion

Install-LoadTool
$null = New-Item -ItemType Directory -Force $TempDir
$script:WrkScript = Join-Path $TempDir 'bench.lua'
# Static request (no request()/response() callbacks, so wrk stays on its fast path); done() prints
# the totals of all threads, latency in microseconds.
[IO.File]::WriteAllText($script:WrkScript, @'
function init(args)
  wrk.method = args[1]
  wrk.body = args[2]
  wrk.headers["Content-Type"] = args[3]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
'@)
$script:NoBatchManifest = New-NoBatchManifest
$machine = Get-MachineInfo
$configs = Get-Configurations
$turns = [Collections.Generic.List[object]]::new()
$starts = [Collections.Generic.List[object]]::new()
$floors = [Collections.Generic.List[object]]::new()
$floorExe = Build-SocketFloor
$unsupported = @{}
$lastTurnSeconds = @{}
try {
    Write-Host "Bench: $($machine.CommitShort), $Rounds rounds x $($configs.Count) configurations, loads of $Seconds s; everything to 127.0.0.1"
    for ($round = 1; $round -le $Rounds; $round++) {
        $order = @($configs.Keys)
        if ($round % 2 -eq 0) { [array]::Reverse($order) }
        if ($floorExe) {
            $transports = if ($round % 2) { 'uds', 'tcp' } else { 'tcp', 'uds' }
            foreach ($bytes in 0, 262144) {
                foreach ($t in $transports) {
                    $f = Measure-SocketFloor $floorExe $t $bytes $round
                    $floors.Add($f)
                    Write-Host ("round $round - socket floor $t $(if ($bytes) { "$($bytes / 1024) KiB" } else { 'call-sized' }): " + $(if ($f.Failed) { "FAILED $($f.Failed)" } else { "p50 $($f.P50Us) µs, p99 $($f.P99Us) µs" }))
                }
            }
        }
        foreach ($key in $order) {
            if ($unsupported[$key]) { continue }
            $estimate = if ($lastTurnSeconds.ContainsKey($key)) { $lastTurnSeconds[$key] } else { 5 + $configs[$key].Routes.Count * (2 * $Seconds + $WarmupSeconds) }
            if ($RunClock.Elapsed.TotalSeconds + $estimate + 30 -gt $BudgetSeconds) { Write-Host "round $round - $key skipped: time budget ($BudgetSeconds s)"; continue }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $turn = Invoke-Configuration $key $configs[$key] $round
            $lastTurnSeconds[$key] = $clock.Elapsed.TotalSeconds
            $turns.Add($turn)
            if ($turn.Status -eq 'unsupported') { $unsupported[$key] = $true }
        }
    }
    Write-Host 'Start and respawn times'
    foreach ($kind in 'production', 'development') {
        for ($i = 1; $i -le $StartSamples; $i++) {
            if ($RunClock.Elapsed.TotalSeconds + 10 -gt $BudgetSeconds + 60) { Write-Host "  $kind start $i skipped: time budget"; continue }
            $s = Measure-StartAndRespawn $kind $i
            $starts.Add($s)
            Write-Host ("  {0} {1}: ready {2} ms, first /classify 200 {3} ms{4}{5}" -f $kind, $i, $s.ReadyMs,
                "$($s.FirstServedMs)$(if ($s.AnswersBeforeServed.Count) { " (after $($s.AnswersBeforeServed.Count) other answers: $(($s.AnswersBeforeServed | Group-Object | ForEach-Object { "$($_.Name)x$($_.Count)" }) -join ' '))" })",
                $(if ($null -ne $s.RespawnMs) { ", respawn $($s.RespawnMs) ms ($($s.RespawnDetail))" }), $(if ($s.Error) { "; ERROR $($s.Error)" }))
        }
    }
}
finally {
    foreach ($job in @($script:Jobs)) { Stop-BenchHost $job }
    $leftover = @(Get-WorkerProcess)
    foreach ($p in $leftover) { & kill -9 $p 2>$null }
    if ($leftover.Count) { Write-Warning "Killed $($leftover.Count) worker process(es) left over: $($leftover -join ', ')" }
    Remove-Item -Recurse -Force -ErrorAction Ignore $TempDir
    $Http.Dispose()
}

$machine.LoadAverageAtEnd = ([IO.File]::ReadAllText('/proc/loadavg').Split(' ')[0..2] -join ' ')
$report = New-Report $turns $starts $floors $machine $configs
$elapsed = [math]::Round($RunClock.Elapsed.TotalSeconds)
$null = New-Item -ItemType Directory -Force $ResultsDirectory
$resultFile = Join-Path $ResultsDirectory ((Get-Date).ToString('yyyyMMdd-HHmmss') + '.json')
[ordered]@{
    Machine    = $machine
    Settings   = [ordered]@{ Seconds = $Seconds; WarmupSeconds = $WarmupSeconds; Rounds = $Rounds; ApiWorkers = $ApiWorkers; StartSamples = $StartSamples }
    ElapsedSeconds = $elapsed
    Turns      = $turns
    Starts     = $starts
    SocketFloor = $floors
    Goals      = $report.Goals
    Markdown   = $report.Markdown
} | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $resultFile -Encoding utf8

''
$report.Markdown
''
"Bench took $elapsed s; raw measurements: $resultFile"
