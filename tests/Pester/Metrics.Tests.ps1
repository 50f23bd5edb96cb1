BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1

    $script:Python = '/usr/bin/python3'
    $script:GrpcClient = Join-Path $PSScriptRoot 'grpc_client.py'
    $script:Classify = '{"features":[5.1,3.5,1.4,0.2]}'

    function Get-Metrics {
        <# .SYNOPSIS GET /metrics as text, over HTTP/1.1, or h2c with -Http2 (a gRPC host's port). #>
        param([Parameter(Mandatory)] [string] $Url, [switch] $Http2)
        $client = [System.Net.Http.HttpClient]::new()
        try {
            $request = [System.Net.Http.HttpRequestMessage]::new('GET', "$Url/metrics")
            if ($Http2) {
                $request.Version = [version]'2.0'
                $request.VersionPolicy = [System.Net.Http.HttpVersionPolicy]::RequestVersionExact
            }
            $response = $client.SendAsync($request).GetAwaiter().GetResult()
            $response.StatusCode | Should -Be 200
            $response.Content.Headers.ContentType.ToString() | Should -Match '^text/plain; version=0\.0\.4'
            return $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        }
        finally { $client.Dispose() }
    }

    function Get-Sample {
        <# .SYNOPSIS The value of one series in a scrape's text (exact name and labels as written); $null when absent. #>
        param([Parameter(Mandatory)] [string] $Text, [Parameter(Mandatory)] [string] $Series)
        foreach ($line in $Text -split "`n") {
            if ($line.StartsWith("$Series ")) { return [double]$line.Substring($Series.Length + 1) }
        }
        return $null
    }

    function Send-Classify {
        param([Parameter(Mandatory)] [string] $Url, [int] $Count, [string] $Body = $Classify)
        $ok = 0
        for ($i = 0; $i -lt $Count; $i++) {
            try {
                Invoke-WebRequest -Method Post -Uri "$Url/classify" -Body $Body -ContentType 'application/json' | Out-Null
                $ok++
            }
            catch { if ($Body -eq $Classify) { throw } }
        }
        return $ok
    }

    function Start-Prometheus {
        <# .SYNOPSIS A real Prometheus server (Debian's), scraping -Target's /metrics every second, on 127.0.0.1 only. #>
        param([Parameter(Mandatory)] [string] $Target)
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("prom-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $port = Get-FreePort
        @"
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: serving
    metrics_path: /metrics
    static_configs:
      - targets: ['$Target']
"@ | Set-Content -Path (Join-Path $dir 'prometheus.yml')
        $info = [System.Diagnostics.ProcessStartInfo]::new('prometheus')
        foreach ($a in "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data", "--web.listen-address=127.0.0.1:$port") {
            $info.ArgumentList.Add($a)
        }
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        # Its log goes nowhere, but must be read: a full pipe would block it.
        $process.BeginOutputReadLine(); $process.BeginErrorReadLine()
        $server = [pscustomobject]@{ Process = $process; Url = "http://127.0.0.1:$port"; Directory = $dir }
        Wait-Until -TimeoutSeconds 30 -What 'Prometheus ready' {
            try { (Invoke-WebRequest "$($server.Url)/-/ready").StatusCode -eq 200 } catch { $false }
        }
        return $server
    }

    function Stop-Prometheus($Server) {
        if ($null -eq $Server) { return }
        if (-not $Server.Process.HasExited) { $Server.Process.Kill($true); $Server.Process.WaitForExit(10000) | Out-Null }
        Remove-Item -Recurse -Force $Server.Directory -ErrorAction SilentlyContinue
    }

    function Get-PrometheusValue {
        <# .SYNOPSIS An instant query's single value through Prometheus' HTTP API; $null while it has none. #>
        param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $Query)
        $answer = Invoke-RestMethod -Uri "$($Server.Url)/api/v1/query" -Body @{ query = $Query }
        if ($answer.status -ne 'success' -or $answer.data.result.Count -eq 0) { return $null }
        return [double]$answer.data.result[0].value[1]
    }
}

Describe '/metrics' {
    AfterEach { Remove-AllServingHosts }
    AfterAll { Remove-AllServingHosts }

    It 'counts known HTTP traffic exactly, across API workers, and passes promtool' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $url = $job.Location
        Send-Classify -Url $url -Count 23 | Should -Be 23
        Send-Classify -Url $url -Count 3 -Body '{"features":[1]}' | Out-Null
        # Both API workers answered some (a new connection each time: the kernel spreads them).
        Wait-Until -What 'the counters to reach the requests sent' {
            $text = Get-Metrics $url
            (Get-Sample $text 'serving_request_total{api="/classify",protocol="http",status="200"}') -eq 23 -and
            (Get-Sample $text 'serving_request_total{api="/classify",protocol="http",status="400"}') -eq 3
        }
        $text = Get-Metrics $url
        Get-Sample $text 'serving_request_duration_seconds_count{api="/classify",protocol="http"}' | Should -Be 26
        Get-Sample $text 'serving_request_in_progress{api="/classify",protocol="http"}' | Should -Be 0
        Get-Sample $text 'serving_runner_call_duration_seconds_count{runner="classifier"}' | Should -Be 26
        # The runner worker's batches, read by the API worker from the runner's own segment.
        Get-Sample $text 'serving_runner_batch_size_sum{runner="classifier"}' | Should -Be 26
        Get-Sample $text 'serving_host_generation' | Should -Be 1
        foreach ($w in 'api-1', 'api-2', 'echo-1', 'classifier-1') {
            $role = if ($w -like 'api-*') { 'api' } else { 'runner' }
            Get-Sample $text "serving_worker_up{worker=`"$w`",role=`"$role`"}" | Should -Be 1
        }
        # Not API traffic: probes and scrapes are not counted.
        Invoke-WebRequest "$url/readyz" | Out-Null
        Get-Sample (Get-Metrics $url) 'serving_request_total{api="/classify",protocol="http",status="200"}' | Should -Be 23

        $check = $text | & promtool check metrics 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "promtool says: $check"
    }

    It 'keeps its totals when a worker is killed and respawned' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = $job.Location
        Send-Classify -Url $url -Count 20 | Out-Null
        Wait-Until -What '20 counted' { (Get-Sample (Get-Metrics $url) 'serving_request_total{api="/classify",protocol="http",status="200"}') -eq 20 }
        $info = Get-ServingHost -Name $job.Name
        & kill -9 (($info.Workers | Where-Object Name -EQ 'api-1').Pid) (($info.Workers | Where-Object Name -EQ 'classifier-1').Pid)
        Wait-Until -TimeoutSeconds 30 -What 'api-1 and classifier-1 respawned' {
            $now = Get-ServingHost -Name $job.Name
            @($now.Workers | Where-Object { $_.Name -in 'api-1', 'classifier-1' -and $_.State -eq 'Running' -and $_.Restarts -ge 1 }).Count -eq 2
        }
        Wait-Until -What 'the host ready again' { try { (Invoke-WebRequest "$url/readyz").StatusCode -eq 200 } catch { $false } }
        Send-Classify -Url $url -Count 7 | Out-Null
        Wait-Until -What '27 counted' {
            $text = Get-Metrics $url
            (Get-Sample $text 'serving_request_total{api="/classify",protocol="http",status="200"}') -eq 27 -and
            (Get-Sample $text 'serving_runner_batch_size_sum{runner="classifier"}') -eq 27
        }
        $text = Get-Metrics $url
        Get-Sample $text 'serving_worker_restarts_total{worker="api-1",role="api"}' | Should -Be 1
        Get-Sample $text 'serving_worker_restarts_total{worker="classifier-1",role="runner"}' | Should -Be 1
        Get-Sample $text 'serving_request_in_progress{api="/classify",protocol="http"}' | Should -Be 0
    }

    It 'counts gRPC calls by status name, and a gRPC host answers /metrics on its h2c port' {
        & $Python -c 'import grpc' 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0 -Because '.ci/run installs python3-grpcio'
        $port = Get-FreePort
        $job = Start-ServingHost -Protocol Grpc -Port $port -HostAddress 127.0.0.1 -ApiWorkers 2 -AccessLog
        $target = "127.0.0.1:$port"
        $out = & $Python $GrpcClient $target spread 9 classify json $Classify | Select-Object -Last 1 | ConvertFrom-Json
        ($out.workers.PSObject.Properties.Value | Measure-Object -Sum).Sum | Should -Be 9
        & $Python $GrpcClient $target call classify json '{"features":[1]}' | Out-Null
        Wait-Until -What 'the gRPC counters' {
            $text = Get-Metrics "http://$target" -Http2
            (Get-Sample $text 'serving_request_total{api="/classify",protocol="grpc",status="OK"}') -eq 9 -and
            (Get-Sample $text 'serving_request_total{api="/classify",protocol="grpc",status="INVALID_ARGUMENT"}') -eq 1
        }
        # -AccessLog: one line per call, with the gRPC method and status name.
        Wait-Until -What 'the access lines' { @(Get-ServingLog -Name $job.Name | Where-Object Message -Match '^Call /classify OK ').Count -eq 9 }
        @(Get-ServingLog -Name $job.Name | Where-Object Message -Match '^Call /classify INVALID_ARGUMENT ').Count | Should -Be 1
    }

    It 'serves a gRPC host''s metrics over HTTP/1.1 on -MetricsPort, from every API worker, and nothing else there' {
        $port = Get-FreePort
        $metricsPort = Get-FreePort
        $job = Start-ServingHost -Protocol Grpc -Port $port -MetricsPort $metricsPort -HostAddress 127.0.0.1 -ApiWorkers 2
        $info = Get-ServingHost -Name $job.Name
        $info.MetricsUrl | Should -Be "http://127.0.0.1:$metricsPort/metrics"
        & $Python $GrpcClient "127.0.0.1:$port" spread 4 classify json $Classify | Out-Null
        $workers = @{}
        Wait-Until -What 'both API workers to answer on the metrics port' {
            # A new connection each time: the kernel spreads them over the API workers' sockets.
            $r = Invoke-WebRequest $info.MetricsUrl -Headers @{ Connection = 'close' }
            $workers[[string]$r.Headers['x-serving-worker']] = $true
            (Get-Sample $r.Content 'serving_request_total{api="/classify",protocol="grpc",status="OK"}') -eq 4 -and $workers.Count -eq 2
        }
        (Invoke-WebRequest "http://127.0.0.1:$metricsPort/readyz").StatusCode | Should -Be 200
        $e = { Invoke-WebRequest -Method Post "http://127.0.0.1:$metricsPort/classify" -Body $Classify -ContentType 'application/json' } |
            Should -Throw -PassThru
        $e.Exception.Response.StatusCode.value__ | Should -Be 404
    }

    It 'gives a real Prometheus server the exact totals, also after a worker was killed' {
        Get-Command prometheus -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because '.ci/run installs Debian''s prometheus'
        $port = Get-FreePort
        $job = Start-ServingHost -Port $port -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = $job.Location
        $server = $null
        try {
            $server = Start-Prometheus -Target "127.0.0.1:$port"
            Send-Classify -Url $url -Count 15 | Out-Null
            $query = 'sum(serving_request_total{job="serving",api="/classify",status="200"})'
            Wait-Until -TimeoutSeconds 30 -What 'Prometheus to see 15 requests' { (Get-PrometheusValue $server $query) -eq 15 }
            Wait-Until -TimeoutSeconds 30 -What 'Prometheus to see the target up' { (Get-PrometheusValue $server 'up{job="serving"}') -eq 1 }

            $info = Get-ServingHost -Name $job.Name
            & kill -9 (($info.Workers | Where-Object Name -EQ 'api-2').Pid)
            Wait-Until -TimeoutSeconds 30 -What 'api-2 respawned' {
                (Get-ServingHost -Name $job.Name).Workers | Where-Object { $_.Name -eq 'api-2' -and $_.State -eq 'Running' -and $_.Restarts -ge 1 }
            }
            Wait-Until -What 'the host ready again' { try { (Invoke-WebRequest "$url/readyz").StatusCode -eq 200 } catch { $false } }
            Send-Classify -Url $url -Count 6 | Out-Null
            Wait-Until -TimeoutSeconds 30 -What 'Prometheus to see 21 requests' { (Get-PrometheusValue $server $query) -eq 21 }
            Wait-Until -TimeoutSeconds 30 -What 'Prometheus to see the restart' {
                (Get-PrometheusValue $server 'serving_worker_restarts_total{job="serving",worker="api-2"}') -eq 1
            }
            # The counter never went backwards between scrapes: no reset Prometheus would have to paper over.
            Get-PrometheusValue $server "resets(serving_request_total{job=`"serving`",api=`"/classify`",status=`"200`"}[5m])" | Should -Be 0
        }
        finally { Stop-Prometheus $server }
    }
}
