BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
    $InContainer = (Get-ServingPlatform).IsContainer
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1

    # The independent client: Python grpcio from Debian (python3-grpcio), not the .NET code under test.
    # /usr/bin/python3, not a pyenv shim on PATH, is where Debian's packages import.
    $script:Python = '/usr/bin/python3'
    $script:Client = Join-Path $PSScriptRoot 'grpc_client.py'

    function Invoke-GrpcClient {
        param([Parameter(Mandatory)] [string] $Target, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
        $out = & $Python $Client $Target @Arguments
        if ($LASTEXITCODE -ne 0) { throw "grpc_client.py $($Arguments -join ' ') failed ($LASTEXITCODE): $out" }
        return ($out | Select-Object -Last 1) | ConvertFrom-Json
    }

    function Start-GrpcHost {
        param([string] $Service, [int] $ApiWorkers = 2, [string] $Respawn = 'Auto', [int] $RequestTimeout = 60)
        $port = Get-FreePort
        $params = @{ Protocol = 'Grpc'; Port = $port; HostAddress = '127.0.0.1'; ApiWorkers = $ApiWorkers; Respawn = $Respawn; RequestTimeout = $RequestTimeout }
        if ($Service) { $params.Service = $Service }
        $job = Start-ServingHost @params
        return [pscustomobject]@{ Job = $job; Port = $port; Target = "127.0.0.1:$port"; Info = Get-ServingHost -Name $job.Name }
    }
}

Describe 'gRPC front door' {
    AfterEach { Remove-AllServingHosts }
    AfterAll { Remove-AllServingHosts }

    It 'the independent client is available (python3-grpcio)' {
        & $Python -c 'import grpc' 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0 -Because '.ci/run installs python3-grpcio'
    }

    It 'serves health (SERVING), reflection and Call with the same results as HTTP' {
        $g = Start-GrpcHost
        $g.Info.Protocol | Should -Be 'Grpc'
        (Invoke-GrpcClient $g.Target health).status | Should -Be 'SERVING'

        $services = (Invoke-GrpcClient $g.Target services).services
        $services | Should -Contain 'serving.v1.Serving'
        $services | Should -Contain 'grpc.health.v1.Health'

        $body = '{"features":[6.0,2.9,4.5,1.5]}'
        $reply = Invoke-GrpcClient $g.Target call classify json $body
        $reply.kind | Should -Be 'json'
        $reply.worker | Should -Match '^api-[12]$'
        $grpcResult = $reply.value | ConvertFrom-Json

        $http = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name 'http-twin'
        $httpResult = Invoke-RestMethod "$((Get-ServingHost -Name $http.Name).Url)/classify" -Method Post -Body $body
        $grpcResult.label | Should -Be 'versicolor'
        $grpcResult.label | Should -Be $httpResult.label
        $grpcResult.probabilities | Should -Be $httpResult.probabilities

        $echo = Invoke-GrpcClient $g.Target call /echo data 'hello'
        $echo.kind | Should -Be 'data'
        $echo.value | Should -Be ([Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes('hello')).ToLowerInvariant())
    }

    It 'lists the APIs and streams a JSON array result one reply per element' {
        $g = Start-GrpcHost -ApiWorkers 1
        (Invoke-GrpcClient $g.Target apis).apis.route | Should -Be @('/echo', '/classify')
        $replies = (Invoke-GrpcClient $g.Target stream classify json '{"instances":[[5.1,3.5,1.4,0.2],[6.0,2.9,4.5,1.5],[6.7,3.0,5.2,2.3]]}').replies
        @($replies).Count | Should -Be 3
        ($replies | ForEach-Object { ($_.value | ConvertFrom-Json).label }) | Should -Be @('setosa', 'versicolor', 'virginica')
    }

    It 'maps errors to status codes: unknown API NOT_FOUND, bad JSON INVALID_ARGUMENT, with the error id in the trailers' {
        $g = Start-GrpcHost -ApiWorkers 1
        $missing = Invoke-GrpcClient $g.Target call nope json '{}'
        $missing.code | Should -Be 'NOT_FOUND'
        $missing.errorId | Should -Be 'NotFound'
        $missing.requestId | Should -Not -BeNullOrEmpty
        $bad = Invoke-GrpcClient $g.Target call classify json 'not json'
        $bad.code | Should -Be 'INVALID_ARGUMENT'
        $bad.errorId | Should -Be 'InvalidJson'
        $wrong = Invoke-GrpcClient $g.Target call classify json '{"features":[1,2]}'
        $wrong.code | Should -Be 'INVALID_ARGUMENT'
        $wrong.errorId | Should -Be 'InvalidInput'
        $wrong.details | Should -Match 'features'
        $huge = Invoke-GrpcClient $g.Target call classify json '{"features":[1e309,1,1,1]}'
        $huge.code | Should -Be 'INVALID_ARGUMENT'
        $huge.details | Should -Be 'invalid input in $.features[0]: expected a number, got 1e309 (out of range)'
        $finite = Invoke-GrpcClient $g.Target call classify json '{"features":[1e308,1e308,1e308,1e308]}'
        $finite.kind | Should -Be 'json'
        ($finite.value | ConvertFrom-Json).probabilities | ForEach-Object { [double]::IsFinite($_) | Should -BeTrue }
    }

    It 'runner exceptions are INTERNAL without a stack trace; deadlines are DEADLINE_EXCEEDED; cancellation reaches the runner' {
        $g = Start-GrpcHost -Service $FixtureManifest -ApiWorkers 1
        $fail = Invoke-GrpcClient $g.Target call fail json '{}'
        $fail.code | Should -Be 'INTERNAL'
        $fail.details | Should -Not -Match '\bat Serving\.|\.cs:line|StackTrace|Exception|System\.'
        $fail.errorId | Should -Be 'RunnerFailed'
        $fail.details | Should -Be "runner 'text' method 'fail' failed; details are in the serving host's log under request id $($fail.requestId)"
        Wait-Until -TimeoutSeconds 5 -What 'the log line with the request id' {
            (Receive-Job $g.Job -Keep | Where-Object Message -Match ([regex]::Escape("RunnerFailed request $($fail.requestId):"))).Count -ge 1
        }

        (Invoke-GrpcClient $g.Target call slow json '{"ms":5000}' 0.5).code | Should -Be 'DEADLINE_EXCEEDED'
        Wait-Until -TimeoutSeconds 5 -What 'the runner saw the deadline' {
            (Receive-Job $g.Job -Keep | Where-Object Message -Match 'slow: cancelled after \d+ ms of 5000 ms').Count -ge 1
        }

        (Invoke-GrpcClient $g.Target cancel slow json '{"ms":8000}' 0.5).code | Should -Be 'CANCELLED'
        Wait-Until -TimeoutSeconds 5 -What 'the runner saw the cancellation' {
            (Receive-Job $g.Job -Keep | Where-Object Message -Match 'slow: cancelled after \d+ ms of 8000 ms').Count -ge 1
        }
    }

    It 'rejects a message over -MaxMessageSize with RESOURCE_EXHAUSTED' {
        $port = Get-FreePort
        $null = Start-ServingHost -Protocol Grpc -Port $port -HostAddress 127.0.0.1 -ApiWorkers 1 -MaxMessageSize 4096
        $big = 'x' * 10000
        (Invoke-GrpcClient "127.0.0.1:$port" call echo data $big).code | Should -Be 'RESOURCE_EXHAUSTED'
        (Invoke-GrpcClient "127.0.0.1:$port" call echo data 'small').kind | Should -Be 'data'
    }

    It 'each API worker binds the port with SO_REUSEPORT and new connections are served by both' {
        $g = Start-GrpcHost -ApiWorkers 2
        $listening = @(Get-ListeningTcp | Where-Object Port -EQ $g.Port)
        $listening.Count | Should -Be 2
        $ss = & ss -ltnp "sport = :$($g.Port)" | Select-Object -Skip 1
        @($ss).Count | Should -Be 2
        $apiPids = ($g.Info.Workers | Where-Object Role -EQ 'Api').Pid
        foreach ($p in $apiPids) { ($ss -join "`n") | Should -Match "pid=$p," }

        $spread = (Invoke-GrpcClient $g.Target spread 60 echo data 'x').workers
        $spread.PSObject.Properties.Name | Sort-Object | Should -Be @('api-1', 'api-2')
    }

    It 'Restart-ServingHost and Set-ServingHost under a real gRPC client''s load: every call OK (SO_REUSEPORT API workers, each replaced or removed on its own)' {
        $h = Start-GrpcHost -ApiWorkers 2
        $before = $h.Info.Workers.Pid
        # 8 channels calling back to back for 6 s, while every worker is replaced, then API and runner workers scaled up and down.
        $load = Start-ThreadJob -ArgumentList $Python, $Client, $h.Target {
            param($python, $client, $target)
            & $python $client $target load 8 6 /classify json '{"features":[5.1,3.5,1.4,0.2]}'
        }
        Wait-Until -What 'the load to begin' { $load.State -eq 'Running' }
        Start-Sleep -Milliseconds 1000 # let the channels connect and call for a moment first
        Restart-ServingHost -Name $h.Job.Name -Timeout 5
        Set-ServingHost -Name $h.Job.Name -ApiWorkers 3 -RunnerWorkers @{ classifier = 2 }
        Set-ServingHost -Name $h.Job.Name -ApiWorkers 1 -RunnerWorkers @{ classifier = 1 }
        $result = ($load | Wait-Job -Timeout 40 | Receive-Job | Select-Object -Last 1) | ConvertFrom-Json

        $ok = $result.codes.OK
        $failed = @($result.codes.PSObject.Properties | Where-Object Name -NE 'OK')
        $failed | Should -BeNullOrEmpty -Because "every call answers OK ($($result | ConvertTo-Json -Compress -Depth 5))"
        $ok | Should -BeGreaterThan 1000
        $after = Get-ServingHost -Name $h.Job.Name
        $after.State | Should -Be 'Running'
        ($after.Workers | Where-Object Role -EQ 'Api').Name | Should -Be @('api-1')
        foreach ($p in $before) { Test-ProcessAlive $p | Should -BeFalse }
    }

    It 'with respawn off a killed runner ends the host: an open Watch sees NOT_SERVING, then its call ends' {
        $g = Start-GrpcHost -ApiWorkers 1 -Respawn Never
        $watcher = Start-Process -FilePath $Python -ArgumentList $Client, $g.Target, 'watch', '20' -RedirectStandardOutput (Join-Path $TestDrive 'watch.json') -PassThru
        try {
            Wait-Until -TimeoutSeconds 10 -What 'the watcher connected' {
                (Receive-Job $g.Job -Keep | Where-Object Worker -EQ 'api-1').Count -gt 0 -and -not $watcher.HasExited
            }
            (Invoke-GrpcClient $g.Target health).status | Should -Be 'SERVING'
            $classifier = ($g.Info.Workers | Where-Object Name -EQ 'classifier-1').Pid
            & kill -9 $classifier
            Wait-Until -TimeoutSeconds 15 -What 'the host ends' { (Get-ServingHost -Name $g.Job.Name).State -eq 'Failed' }
            $watcher.WaitForExit(30000) | Should -BeTrue -Because 'a stop ends open watches'
            $statuses = (Get-Content (Join-Path $TestDrive 'watch.json') | ConvertFrom-Json).statuses
            $statuses[0] | Should -Be 'SERVING'
            $statuses | Should -Contain 'NOT_SERVING'
            (Invoke-GrpcClient $g.Target health).code | Should -Be 'UNAVAILABLE' -Because 'the port refuses connections once the host ended'
        }
        finally {
            if (-not $watcher.HasExited) { $watcher.Kill() }
        }
    }
}
