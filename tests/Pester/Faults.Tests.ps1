# The fault suite: each scenario breaks a real host the way production does (kill -9, stop under
# load, a runner that keeps crashing, hostile bodies, a caller without the runner secret, a sweep
# from another PID namespace) under bounded wrk load on 127.0.0.1, asserts that it failed safe, and
# adds a line to the summary table printed at the end (scenario, sent, succeeded, failed, ...).
BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
    $HasWrk = [bool](Get-Command wrk -ErrorAction Ignore)
    $HasPython = Test-Path /usr/bin/python3
    # PID namespaces need root (or user namespaces); probe once rather than guess.
    $CanUnshare = $false
    if (Get-Command unshare -ErrorAction Ignore) {
        & unshare --pid --fork --mount-proc true 2>$null
        $CanUnshare = $LASTEXITCODE -eq 0
    }
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1
    . $PSScriptRoot/LoadHelpers.ps1
    $script:FaultResults = [System.Collections.Generic.List[object]]::new()
    $script:DemoAssembly = Join-Path (Split-Path $env:SERVING_TEST_MODULE) 'demo/Serving.Demo.dll'
    $script:Python = '/usr/bin/python3'
    $script:RunnerClient = Join-Path $PSScriptRoot 'runner_client.py'

    function New-DemoManifest([int] $ClassifierWorkers = 1) {
        $path = Join-Path $TestDrive "demo-$([guid]::NewGuid().ToString('N').Substring(0, 8)).psd1"
        Set-Content -LiteralPath $path -Value @"
@{
    Name       = 'demo'
    Assemblies = @('$DemoAssembly')
    Runners    = @(
        @{ Name = 'echo';       Type = 'Serving.Demo.EchoRunner';           Workers = 1 }
        @{ Name = 'classifier'; Type = 'Serving.Demo.IrisClassifierRunner'; Workers = $ClassifierWorkers }
    )
    Apis       = @(
        @{ Route = '/echo';     Runner = 'echo';       Method = 'echo';     Input = 'Bytes'; Output = 'Bytes' }
        @{ Route = '/classify'; Runner = 'classifier'; Method = 'classify'; Input = 'Json';  Output = 'Json' }
    )
}
"@
        return $path
    }

    function Get-Worker($HostName, [string] $Worker) {
        (Get-ServingHost -Name $HostName).Workers | Where-Object Name -EQ $Worker
    }

    $script:Iris = '{"features":[5.1,3.5,1.4,0.2]}'
}

AfterAll {
    if ($script:FaultResults.Count -gt 0) {
        Write-Host ''
        Write-Host 'Fault suite summary (requests: sent = left the client; failed = non-2xx + reset after send + timed out)'
        Write-Host ($script:FaultResults | Format-Table -AutoSize -Wrap Scenario, Sent, Succeeded, Failed, Reset, Refused, Note | Out-String -Width 200).TrimEnd()
    }
}

Describe 'Fault suite' -Skip:(-not $HasWrk) {
    AfterEach {
        # Every scenario cleans up its hosts, jobs and workers, even when it failed.
        Remove-AllServingHosts
    }

    AfterAll {
        Remove-AllServingHosts
    }

    It 'kill -9 of a runner worker under load: only requests in flight on it fail, and it is replaced' {
        $job = Start-ServingHost -Service (New-DemoManifest -ClassifierWorkers 2) -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = (Get-ServingHost -Name $job.Name).Url
        $load = Start-Load -Url "$url/classify" -Body $Iris -ContentType 'application/json' -Seconds 5 -Connections 8
        Wait-LoadRunning $load
        $victim = Get-Worker $job.Name 'classifier-1'
        & kill -9 $victim.Pid
        $result = Complete-Load $load
        Add-FaultResult 'kill -9 runner worker (1 of 2)' -Load $result -Note (Format-Statuses $result)

        $result.Reset | Should -Be 0 -Because 'the API worker answers every request it read'
        $result.Failed | Should -BeLessOrEqual 8 -Because 'at most the calls in flight on the killed worker (one per connection) fail'
        $result.Succeeded | Should -BeGreaterThan 0
        Wait-Until -TimeoutSeconds 10 -What 'classifier-1 respawned' { (Get-Worker $job.Name 'classifier-1') | Where-Object { $_.State -eq 'Running' -and $_.Restarts -eq 1 } }
        Invoke-RestMethod "$url/classify" -Method Post -Body $Iris -ContentType 'application/json' | ForEach-Object label | Should -Be 'setosa'
    }

    It 'kill -9 of an API worker under load: only its connections are lost, the other serves, it is replaced' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = (Get-ServingHost -Name $job.Name).Url
        $load = Start-Load -Url "$url/echo" -Seconds 5 -Connections 16
        Wait-LoadRunning $load
        & kill -9 (Get-Worker $job.Name 'api-1').Pid
        $result = Complete-Load $load
        Add-FaultResult 'kill -9 API worker (1 of 2)' -Load $result -Note (Format-Statuses $result)

        ($result.Failed + $result.Reset + $result.TimedOut) | Should -BeLessOrEqual 16 -Because 'only requests in flight on the killed worker (one per connection) are lost'
        $result.Succeeded | Should -BeGreaterThan 0
        Wait-Until -TimeoutSeconds 10 -What 'api-1 respawned' { (Get-Worker $job.Name 'api-1') | Where-Object { $_.State -eq 'Running' -and $_.Restarts -eq 1 } }
        (Get-ServingHost -Name $job.Name).State | Should -Be 'Running'
    }

    It 'Restart-ServingHost under load: every worker replaced one at a time, not one request failed, reset or refused' {
        $job = Start-ServingHost -Service (New-DemoManifest) -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $before = (Get-ServingHost -Name $job.Name).Workers
        $url = (Get-ServingHost -Name $job.Name).Url
        # classifier has one worker: the hard case, nobody else serves it while it is replaced.
        $load = Start-Load -Url "$url/classify" -Body $Iris -ContentType 'application/json' -Seconds 8 -Connections 16
        Wait-LoadRunning $load
        $started = [DateTime]::UtcNow
        $info = Restart-ServingHost -Name $job.Name -Timeout 5 -PassThru
        $took = ([DateTime]::UtcNow - $started).TotalSeconds
        $result = Complete-Load $load
        Add-FaultResult 'Restart-ServingHost (4 workers, 1 classifier)' -Load $result -Note ("{0}; restart took {1:0.0} s" -f (Format-Statuses $result), $took)

        $took | Should -BeLessThan 7 -Because 'the restart ended while the load still ran, so every replacement was under load'
        $info.State | Should -Be 'Running'
        foreach ($w in $info.Workers) {
            $w.Restarts | Should -Be 1
            $w.Pid | Should -Not -BeIn $before.Pid
        }
        foreach ($p in $before.Pid) { Test-ProcessAlive $p | Should -BeFalse }
        $result.Succeeded | Should -BeGreaterThan 1000
        $result.Failed | Should -Be 0 -Because "no answer other than 2xx ($(Format-Statuses $result))"
        $result.Reset | Should -Be 0
        $result.Refused | Should -Be 0
        $result.TimedOut | Should -Be 0
    }

    It 'Set-ServingHost under load: API and runner workers scaled up and down, not one request failed, reset or refused' {
        $job = Start-ServingHost -Service (New-DemoManifest) -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $url = (Get-ServingHost -Name $job.Name).Url
        $load = Start-Load -Url "$url/classify" -Body $Iris -ContentType 'application/json' -Seconds 8 -Connections 16
        Wait-LoadRunning $load
        $up = Set-ServingHost -Name $job.Name -ApiWorkers 3 -RunnerWorkers @{ classifier = 3 } -Timeout 5 -PassThru
        $down = Set-ServingHost -Name $job.Name -ApiWorkers 1 -RunnerWorkers @{ classifier = 1 } -Timeout 5 -PassThru
        $result = Complete-Load $load
        Add-FaultResult 'Set-ServingHost 2/1 -> 3/3 -> 1/1 (API/classifier)' -Load $result -Note (Format-Statuses $result)

        ($up.Workers | Where-Object Role -EQ 'Api').Name | Should -Be @('api-1', 'api-2', 'api-3')
        ($up.Runners | Where-Object Name -EQ 'classifier').Workers | Should -Be 3
        ($down.Workers | Where-Object Role -EQ 'Api').Name | Should -Be @('api-1')
        ($down.Workers | Where-Object Runner -EQ 'classifier').Name | Should -Be @('classifier-1')
        $down.State | Should -Be 'Running'
        $result.Succeeded | Should -BeGreaterThan 1000
        $result.Failed | Should -Be 0 -Because "no answer other than 2xx ($(Format-Statuses $result))"
        $result.Reset | Should -Be 0
        $result.Refused | Should -Be 0
        $result.TimedOut | Should -Be 0
    }

    It '-Reload under load: a changed manifest brings generation 2 and not one request failed, reset or refused' {
        $manifest = New-DemoManifest
        $job = Start-ServingHost -Service $manifest -Reload -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $before = (Get-ServingHost -Name $job.Name).Workers.Pid
        $url = (Get-ServingHost -Name $job.Name).Url
        $load = Start-Load -Url "$url/classify" -Body $Iris -ContentType 'application/json' -Seconds 8 -Connections 16
        Wait-LoadRunning $load
        Add-Content -LiteralPath $manifest -Value '# saved again'
        Wait-Until -TimeoutSeconds 6 -What 'generation 2 to serve' { (Get-ServingHost -Name $job.Name).Generation -eq 2 }
        Wait-Until -TimeoutSeconds 6 -What 'generation 1 to be gone' { -not ($before | Where-Object { Test-ProcessAlive $_ }) }
        $result = Complete-Load $load
        Add-FaultResult '-Reload (generation 1 -> 2, 4 workers)' -Load $result -Note (Format-Statuses $result)

        (Get-ServingHost -Name $job.Name).State | Should -Be 'Running'
        $result.Succeeded | Should -BeGreaterThan 1000
        $result.Failed | Should -Be 0 -Because "no answer other than 2xx ($(Format-Statuses $result))"
        $result.Reset | Should -Be 0
        $result.Refused | Should -Be 0
        $result.TimedOut | Should -Be 0
    }

    It 'kill -9 of the supervisor under load: every worker is gone within 5 s and the port is free' {
        $port = Get-FreePort
        $pidFile = Join-Path $TestDrive 'pids.txt'
        $child = Start-ChildPwsh @"
Import-Module '$env:SERVING_TEST_MODULE'
`$h = Start-ServingHost -Port $port -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
(Get-ServingHost).Workers.Pid -join ',' | Set-Content '$pidFile'
while (`$true) { Start-Sleep -Seconds 1 }
"@
        try {
            Wait-Until -TimeoutSeconds 60 -What 'the child host reports its workers' { (Test-Path $pidFile) -and (Get-Content $pidFile) }
            $pids = (Get-Content $pidFile) -split ',' | ForEach-Object { [int]$_ }
            $load = Start-Load -Url "http://127.0.0.1:$port/echo" -Seconds 4 -Connections 8
            Wait-LoadRunning $load
            # The host answers under the load before the kill (a slow machine may still be starting wrk's connections).
            Wait-Until -TimeoutSeconds 10 -What 'an answer under load' {
                try { (Invoke-WebRequest "http://127.0.0.1:$port/echo" -Method Post -Body 'x' -TimeoutSec 2).StatusCode -eq 200 } catch { $false }
            }
            & kill -9 $child.Id
            $killed = [DateTime]::UtcNow
            Wait-Until -TimeoutSeconds 5 -What 'every worker exited' { -not ($pids | Where-Object { Test-ProcessAlive $_ }) }
            $gone = ([DateTime]::UtcNow - $killed).TotalSeconds
            $result = Complete-Load $load
            Add-FaultResult 'kill -9 supervisor' -Load $result -Note ("workers gone in {0:0.0} s; after that every connect is refused" -f $gone)
            Wait-Until -TimeoutSeconds 5 -What 'the port is free' { Test-PortFree $port }
            $result.Succeeded | Should -BeGreaterThan 0 -Because "requests before the kill are answered (statuses: $(Format-Statuses $result); resets $($result.Reset); refused $($result.Refused); timed out $($result.TimedOut))"
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            if ($pids) { foreach ($p in $pids) { if (Test-ProcessAlive $p) { & kill -9 $p } } }
        }
    }

    It 'stop under load: no reset after a request was sent, requests in flight complete, new connections are refused' {
        $job = Start-ServingHost -Service $FixtureManifest -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = (Get-ServingHost -Name $job.Name).Url
        $load = Start-Load -Url "$url/reverse" -Body 'stressed' -ContentType 'text/plain' -Seconds 6 -Connections 32
        Wait-LoadRunning $load
        # Requests that take a while are in flight when the stop begins: they must complete.
        $slow = 1..3 | ForEach-Object {
            Start-ThreadJob -ArgumentList $url {
                param($u)
                (Invoke-WebRequest "$u/slow" -Method Post -Body '{"ms":1500}' -ContentType 'application/json' -SkipHttpErrorCheck).StatusCode
            }
        }
        Wait-Until -TimeoutSeconds 10 -What 'the slow requests reached the runner' {
            @(Receive-Job $job -Keep -ErrorAction SilentlyContinue | Where-Object Message -Match 'slow: started').Count -ge 3
        }
        $final = Stop-ServingHost -Name $job.Name -Timeout 5 -PassThru
        $statuses = $slow | Wait-Job -Timeout 20 | Receive-Job
        $result = Complete-Load $load
        Add-FaultResult 'stop under load (32 keep-alive + 3 slow)' -Load $result -Sent ($result.Sent + 3) -Note "slow: $($statuses -join ','); $(Format-Statuses $result); then $($result.Refused) connects refused"

        $final.State | Should -Be 'Stopped'
        $result.Reset | Should -Be 0 -Because 'a stop never drops a request after the client sent it'
        $result.TimedOut | Should -Be 0
        # The only failures allowed: connections the kernel completed as the stop began, answered 503 (not processed, retry).
        $result.Statuses.Keys | Where-Object { $_ -notin 200, 503 } | Should -BeNullOrEmpty
        $statuses | Should -Be @(200, 200, 200)
        $result.Refused | Should -BeGreaterThan 0 -Because 'after the stop began, new connections were refused'
    }

    It 'a runner killed until it is Failed is answered 503 with Retry-After within 1 s while other runners serve' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $url = (Get-ServingHost -Name $job.Name).Url
        $kills = 0
        while ((Get-Worker $job.Name 'classifier-1').State -ne 'Failed' -and $kills -lt 8) {
            Wait-Until -TimeoutSeconds 15 -What 'classifier-1 running again, or given up' { (Get-Worker $job.Name 'classifier-1').State -in 'Running', 'Failed' }
            $w = Get-Worker $job.Name 'classifier-1'
            if ($w.State -eq 'Failed') { break }
            & kill -9 $w.Pid
            $kills++
            Wait-Until -TimeoutSeconds 5 -What 'the kill was seen' { (Get-Worker $job.Name 'classifier-1').Pid -ne $w.Pid -or (Get-Worker $job.Name 'classifier-1').State -ne 'Running' }
        }
        Wait-Until -TimeoutSeconds 15 -What 'classifier-1 Failed' { (Get-Worker $job.Name 'classifier-1').State -eq 'Failed' }

        $load = Start-Load -Url "$url/classify" -Body $Iris -ContentType 'application/json' -Seconds 3 -Connections 8
        $one = Invoke-WebRequest "$url/classify" -Method Post -Body $Iris -ContentType 'application/json' -SkipHttpErrorCheck
        $result = Complete-Load $load
        Add-FaultResult "runner killed until Failed ($kills kills)" -Load $result -Note ("{0}; max latency {1} ms" -f (Format-Statuses $result), $result.MaxLatencyMs)

        $one.StatusCode | Should -Be 503
        [int]"$($one.Headers['Retry-After'])" | Should -BeGreaterThan 0
        $result.Statuses.Keys | Should -Be @(503)
        $result.Reset | Should -Be 0
        $result.MaxLatencyMs | Should -BeLessThan 1000
        (Invoke-WebRequest "$url/readyz" -SkipHttpErrorCheck).StatusCode | Should -Be 503
        Invoke-RestMethod "$url/echo" -Method Post -Body 'still here' | Should -Be 'still here'
        (Get-ServingHost -Name $job.Name).State | Should -Be 'Degraded'
    }

    It 'the container rule under -Wait and load: the host ends, pwsh exits 1, in-flight requests complete, nothing is left' {
        $port = Get-FreePort
        $child = $null
        try {
            $child = Start-ContainerizedForegroundHost -Port $port -ApiWorkers 2
            $pids = @(Get-ChildPids $child.Id)
            $load = Start-Load -Url "http://127.0.0.1:$port/echo" -Seconds 5 -Connections 16
            Wait-LoadRunning $load
            & kill -9 (Get-WorkerPidByName -Pids $pids -Name 'classifier-1')
            $child.WaitForExit(20000) | Should -BeTrue -Because 'the host ends by itself'
            $result = Complete-Load $load
            Add-FaultResult 'container rule (-Wait, runner killed)' -Load $result -Note "pwsh exit code $($child.ExitCode); $(Format-Statuses $result)"

            $child.ExitCode | Should -Be 1
            $child.StandardError.ReadToEnd() | Should -Match "Host 'demo' failed: worker classifier-1 exited with code 137"
            $result.Reset | Should -Be 0 -Because 'the host ends gracefully: requests it read are answered'
            $result.Statuses.Keys | Where-Object { $_ -notin 200, 503 } | Should -BeNullOrEmpty -Because '/echo does not need the dead runner; 503 only for connections arriving as the stop began'
            foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
            Test-PortFree $port | Should -BeTrue
        }
        finally {
            if ($child -and -not $child.HasExited) { $child.Kill($true) }
        }
    }

    It 'hostile bodies are answered 4xx (or a correct answer) without .NET internals' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Respawn Always
        $url = (Get-ServingHost -Name $job.Name).Url
        $bodies = @(
            @{ Body = '{"features":[1e308,1e308,1e308,1e308]}'; Status = 200 }
            @{ Body = '{"features":[-1e308,1e308,-1e308,1e308]}'; Status = 200 }
            @{ Body = '{"features":[1e309,1,1,1]}'; Status = 400; Match = 'features\[0\]' }
            @{ Body = '{"features":"abc"}'; Status = 400; Match = 'features' }
            @{ Body = '{"features":[1,2,3]}'; Status = 400; Match = 'features' }
            @{ Body = '{"features":null}'; Status = 400 }
            @{ Body = '[]'; Status = 400 }
            @{ Body = '"x"'; Status = 400 }
            @{ Body = '{"instances":[[1,2,3,4],"x"]}'; Status = 400; Match = 'instances\[1\]' }
            @{ Body = ('[' * 1000) + (']' * 1000); Status = 400 }
            @{ Body = '{"features":[1,2,3,4]} trailing'; Status = 400 }
            @{ Body = ''; Status = 400 }
            @{ Body = '{"features":[1,2,3,4],"features":[1,2,3,4]}'; Status = 200, 400 }
        )
        $internals = 'System\.|Serving\.|Exception|\bat [A-Z]|\.cs:line'
        $ok = 0
        foreach ($case in $bodies) {
            $r = Invoke-WebRequest "$url/classify" -Method Post -Body $case.Body -ContentType 'application/json' -SkipHttpErrorCheck
            $text = Get-ResponseText $r
            $r.StatusCode | Should -BeIn $case.Status -Because "body $($case.Body.Substring(0, [math]::Min(40, $case.Body.Length)))"
            $text | Should -Not -Match $internals
            if ($r.StatusCode -eq 200) {
                $answer = $text | ConvertFrom-Json
                [math]::Abs((($answer.probabilities | Measure-Object -Sum).Sum) - 1) | Should -BeLessThan 1e-9
            }
            else {
                "$($r.Headers['Content-Type'])" | Should -BeLike 'application/problem+json*'
                ($text | ConvertFrom-Json).errorId | Should -BeIn 'InvalidJson', 'InvalidInput'
                if ($case.Match) { $text | Should -Match $case.Match }
            }
            $ok++
        }
        Add-FaultResult 'hostile bodies' -Sent $bodies.Count -Succeeded $ok -Failed ($bodies.Count - $ok) -Note 'answered as expected = succeeded'
    }

    It 'a TCP runner endpoint refuses callers without the host''s secret' -Skip:(-not $HasPython) {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Transport Tcp -Respawn Always
        $info = Get-ServingHost -Name $job.Name
        $endpoint = ($info.Workers | Where-Object Name -EQ 'echo-1').Endpoint
        $endpoint | Should -Match '^127\.0\.0\.1:\d+$'
        $without = & $Python $RunnerClient $endpoint echo 'hi' | ConvertFrom-Json
        $wrong = & $Python $RunnerClient $endpoint echo 'hi' ('0' * 64) | ConvertFrom-Json
        # The secret is in host.json (0600, in the host's private directory): readable by its owner only.
        $config = Get-Content -Raw (Join-Path ([IO.Path]::GetTempPath()) "serving-$($info.HostId)/host.json") | ConvertFrom-Json
        $right = & $Python $RunnerClient $endpoint echo 'hi' $config.runnerSecret | ConvertFrom-Json
        Add-FaultResult 'TCP runner without / with a wrong / with the secret' -Sent 3 -Succeeded 1 -Failed 2 -Note "refused: $($without.refused); $($wrong.refused)"

        $without.refused | Should -Be 'missing or wrong secret'
        $wrong.refused | Should -Be 'missing or wrong secret'
        $right.status | Should -Be 0
        $right.output | Should -Be 'hi'
    }

    It 'a stale-directory sweep from another PID namespace leaves a live host alone' -Skip:(-not $CanUnshare) {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Respawn Always
        $info = Get-ServingHost -Name $job.Name
        $dir = $info.SocketDirectory
        # A host started and stopped in a new PID namespace, where this process's pid is invisible:
        # its start sweeps /tmp and must not take our directory for a dead host's.
        $exe = [Environment]::ProcessPath
        $pwshArgs = @()
        if ((Split-Path -Leaf $exe) -like 'dotnet*') { $pwshArgs += (Join-Path $PSHOME 'pwsh.dll') }
        $script = "Import-Module '$env:SERVING_TEST_MODULE'; if (Get-Process -Id $PID -ErrorAction Ignore) { 'visible' } else { 'invisible' }; " +
            "`$h = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Respawn Never; Get-ServingHost | Stop-ServingHost -Timeout 2 | Out-Null; 'swept'"
        $out = & unshare --pid --fork --mount-proc $exe @pwshArgs -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $out | Should -Match 'invisible' -Because 'inside the namespace this supervisor''s pid cannot be seen'
        $out | Should -Match 'swept'

        Test-Path (Join-Path $dir 'host.json') | Should -BeTrue
        Test-Path (Join-Path $dir 'supervisor.lock') | Should -BeTrue
        # And the host still works, respawns included (its sockets are still there).
        & kill -9 (Get-Worker $job.Name 'echo-1').Pid
        Wait-Until -TimeoutSeconds 10 -What 'echo-1 respawned' { (Get-Worker $job.Name 'echo-1') | Where-Object { $_.State -eq 'Running' -and $_.Restarts -eq 1 } }
        Invoke-RestMethod "$($info.Url)/echo" -Method Post -Body 'alive' | Should -Be 'alive'
        Add-FaultResult 'sweep from another PID namespace' -Sent 1 -Succeeded 1 -Failed 0 -Note 'live host kept; respawn still works'
    }
}
