BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
    $InContainer = (Get-ServingPlatform).IsContainer
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1
}

Describe 'Serving hosts' {
AfterEach {
    # Every test cleans up its hosts and jobs, even when it failed.
    Remove-AllServingHosts
}

AfterAll {
    Remove-AllServingHosts
}

Describe 'Start-ServingHost with the demo service' {
    It 'serves /classify and /echo, with every planned worker running as a child of this process' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $job.PSJobTypeName | Should -Be 'ServingHost'
        $info = Get-ServingHost -Name $job.Name
        $info.State | Should -Be 'Running'

        $one = Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json'
        $one.label | Should -Be 'setosa'
        @($one.probabilities).Count | Should -Be 3
        [math]::Abs((($one.probabilities | Measure-Object -Sum).Sum) - 1) | Should -BeLessThan 1e-9

        $many = Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"instances":[[5.1,3.5,1.4,0.2],[6.0,2.9,4.5,1.5],[6.7,3.0,5.2,2.3]]}' -ContentType 'application/json'
        $many.label | Should -Be @('setosa', 'versicolor', 'virginica')

        Invoke-RestMethod "$($info.Url)/echo" -Method Post -Body 'ping' | Should -Be 'ping'

        # Any finite input is answered with finite probabilities; a number beyond a double is a 400 naming it.
        $huge = Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":[1e308,1e308,1e308,1e308]}' -ContentType 'application/json'
        $huge.probabilities | ForEach-Object { [double]::IsFinite($_) | Should -BeTrue }
        $over = Invoke-WebRequest "$($info.Url)/classify" -Method Post -Body '{"features":[1e309,1,1,1]}' -ContentType 'application/json' -SkipHttpErrorCheck
        $over.StatusCode | Should -Be 400
        $over.Headers['Content-Type'] | Should -Be 'application/problem+json'
        $problem = Get-ResponseText $over | ConvertFrom-Json
        $problem.errorId | Should -Be 'InvalidInput'
        $problem.detail | Should -Be 'invalid input in $.features[0]: expected a number, got 1e309 (out of range)'
        # Invoke-RestMethod reads the problem body as JSON too.
        (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":"x"}' -ContentType 'application/json' -SkipHttpErrorCheck).errorId | Should -Be 'InvalidInput'

        $info.Workers.Name | Should -Be @('echo-1', 'classifier-1', 'api-1', 'api-2')
        foreach ($w in $info.Workers) {
            $w.State | Should -Be 'Running'
            Get-ParentPid $w.Pid | Should -Be $PID
        }
        @(Get-WorkerPids -HostId $info.HostId).Count | Should -Be 4
    }

    It 'keeps its Unix sockets in a private 0700 directory' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Get-ServingHost -Name $job.Name
        $info.Transport | Should -Be 'Uds'
        (& stat -c '%a' $info.SocketDirectory) | Should -Be '700'
        foreach ($name in 'echo', 'classifier') {
            $path = Join-Path $info.SocketDirectory "$name.sock"
            & test -S $path; $LASTEXITCODE | Should -Be 0 -Because "$path is a socket"
        }
    }

    It 'answers /livez, /readyz and /healthz' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $url = (Get-ServingHost -Name $job.Name).Url
        foreach ($path in '/livez', '/readyz', '/healthz') {
            (Invoke-WebRequest "$url$path" -SkipHttpErrorCheck).StatusCode | Should -Be 200 -Because $path
        }
    }

    It 'is a job: one child job per worker, Receive-Job gives log lines tagged with the worker' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        Get-Job -Id $job.Id | Should -Not -BeNullOrEmpty
        $job.ChildJobs.Name | Sort-Object | Should -Be @('api-1', 'classifier-1', 'echo-1')
        $lines = @(Receive-Job $job)
        $lines.Count | Should -BeGreaterThan 0
        ($lines | Where-Object Worker -EQ 'classifier-1').Message -join "`n" | Should -Match 'classifier'
        "$($lines[0])" | Should -Match '^\[(echo-1|classifier-1|api-1)\] '
    }

    It 'Stop-ServingHost leaves no process, no socket directory and a free port' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $info = Get-ServingHost -Name $job.Name
        $pids = $info.Workers.Pid
        $final = Get-ServingHost -Name $job.Name | Stop-ServingHost -PassThru
        $final.State | Should -Be 'Stopped'
        $final.Workers.State | Sort-Object -Unique | Should -Be 'Stopped'
        foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
        Test-Path $info.SocketDirectory | Should -BeFalse
        Test-PortFree ([uri]$info.Url).Port | Should -BeTrue
        $job.State | Should -Be 'Stopped'
    }

    It 'Stop-Job stops the host gracefully and does not hang' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $pids = (Get-ServingHost -Name $job.Name).Workers.Pid
        $stopper = [powershell]::Create().AddCommand('Stop-Job').AddParameter('Job', $job)
        $async = $stopper.BeginInvoke()
        $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue -Because 'Stop-Job returns'
        $stopper.Dispose()
        $job.State | Should -Be 'Stopped'
        foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
    }

    It 'Stop-Job on one worker''s child job restarts that worker and the host keeps serving (respawn off here: a restart is not a crash)' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2
        $url = (Get-ServingHost -Id $job.Host.Id).Url
        $before = (Get-ServingHost -Id $job.Host.Id).Workers | Where-Object Name -EQ 'classifier-1'
        Wait-Until { $job.ChildJobs | Where-Object Name -EQ 'classifier-1' } -What 'the worker''s child job'
        $child = $job.ChildJobs | Where-Object Name -EQ 'classifier-1'

        Stop-Job -Job $child

        $after = (Get-ServingHost -Id $job.Host.Id).Workers | Where-Object Name -EQ 'classifier-1'
        $after.State | Should -Be 'Running'
        $after.Restarts | Should -Be 1
        $after.Pid | Should -Not -Be $before.Pid
        Test-ProcessAlive $before.Pid | Should -BeFalse
        (Get-ServingHost -Id $job.Host.Id).State | Should -Be 'Running'
        $job.State | Should -Be 'Running'
        $child.State | Should -Be 'Running'
        (Invoke-RestMethod "$url/classify" -Method Post -Body '[5.1,3.5,1.4,0.2]' -ContentType 'application/json').label | Should -Be 'setosa'
        ($child | Receive-Job -Keep | ForEach-Object Message) -join "`n" | Should -Match 'restarting on request'

        # An API worker too: its drain leaves the shared API socket to the other one and to its successor.
        Wait-Until { $job.ChildJobs | Where-Object Name -EQ 'api-1' } -What 'the API worker''s child job'
        $apiBefore = ((Get-ServingHost -Id $job.Host.Id).Workers | Where-Object Name -EQ 'api-1').Pid
        Stop-Job -Job ($job.ChildJobs | Where-Object Name -EQ 'api-1')
        ((Get-ServingHost -Id $job.Host.Id).Workers | Where-Object Name -EQ 'api-1').Pid | Should -Not -Be $apiBefore
        foreach ($i in 1..20) {
            Invoke-RestMethod "$url/echo" -Method Post -Body "ping $i" -DisableKeepAlive | Should -Be "ping $i"
        }
    }

    It 'Restart-ServingHost replaces every worker, shows it in Receive-Job, and takes hosts from the pipeline' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $before = (Get-ServingHost -Name $job.Name).Workers
        $info = Get-ServingHost -Name $job.Name | Restart-ServingHost -Timeout 5 -PassThru
        $info.State | Should -Be 'Running'
        foreach ($w in $info.Workers) {
            $w.Restarts | Should -Be 1 -Because "$($w.Name) was restarted once"
            $w.Pid | Should -Not -BeIn $before.Pid
        }
        (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '[5.1,3.5,1.4,0.2]' -ContentType 'application/json').label | Should -Be 'setosa'
        $log = (Receive-Job $job -Keep | ForEach-Object Message) -join "`n"
        $log | Should -Match 'classifier-1 successor \(pid \d+\) is ready and serving'
        $log | Should -Match 'api-1 restarting on request: starting a successor'

        # One runner only; an unknown runner is refused before anything starts.
        $pids = (Get-ServingHost -Name $job.Name).Workers | Select-Object Name, Pid
        Restart-ServingHost -Name $job.Name -Runner echo
        $after = (Get-ServingHost -Name $job.Name).Workers
        ($after | Where-Object Name -EQ 'echo-1').Pid | Should -Not -Be ($pids | Where-Object Name -EQ 'echo-1').Pid
        ($after | Where-Object Name -EQ 'api-1').Pid | Should -Be ($pids | Where-Object Name -EQ 'api-1').Pid
        Restart-ServingHost -Name $job.Name -Runner nope -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Match '^WorkerNotRestartable'
        $err[0].Exception.Message | Should -Match "has no runner 'nope'"
    }

    It 'Restart-ServingHost and Set-ServingHost -WhatIf change nothing' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $before = (Get-ServingHost -Name $job.Name).Workers | ForEach-Object Pid
        Restart-ServingHost -Name $job.Name -WhatIf
        Set-ServingHost -Name $job.Name -ApiWorkers 3 -WhatIf
        (Get-ServingHost -Name $job.Name).Workers | ForEach-Object Pid | Should -Be $before
    }

    It 'Set-ServingHost scales API and runner workers up and down; the new ones serve, the removed ones are gone' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Set-ServingHost -Name $job.Name -ApiWorkers 2 -RunnerWorkers @{ classifier = 2 } -PassThru
        $info.Workers.Name | Should -Be @('echo-1', 'classifier-1', 'classifier-2', 'api-1', 'api-2')
        $info.Workers | ForEach-Object { $_.State | Should -Be 'Running' }
        ($info.Runners | Where-Object Name -EQ 'classifier').Workers | Should -Be 2
        foreach ($i in 1..20) {
            (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '[6.7,3.0,5.2,2.3]' -ContentType 'application/json' -DisableKeepAlive).label | Should -Be 'virginica'
        }
        $removed = ($info.Workers | Where-Object Name -In 'classifier-2', 'api-2').Pid
        $down = Set-ServingHost -Id $job.Host.Id -ApiWorkers 1 -RunnerWorkers @{ classifier = 1 } -PassThru
        $down.Workers.Name | Should -Be @('echo-1', 'classifier-1', 'api-1')
        $down.State | Should -Be 'Running'
        foreach ($p in $removed) { Test-ProcessAlive $p | Should -BeFalse }
        ($job.ChildJobs | Where-Object Name -EQ 'api-2').State | Should -Be 'Stopped'
        (Invoke-RestMethod "$($down.Url)/classify" -Method Post -Body '[5.1,3.5,1.4,0.2]' -ContentType 'application/json').label | Should -Be 'setosa'
    }

    It 'Set-ServingHost refuses what it cannot do with a clear error, before anything starts' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $before = (Get-ServingHost -Name $job.Name).Workers | ForEach-Object Pid
        { Set-ServingHost -Name $job.Name } | Should -Throw -ErrorId 'HostNotScalable*'
        Set-ServingHost -Name $job.Name -RunnerWorkers @{ nope = 2 } -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match "has no runner 'nope'\. Its runners: echo, classifier\."
        { Set-ServingHost -Name $job.Name -RunnerWorkers @{ echo = 'many' } } | Should -Throw -ErrorId 'HostNotScalable*'
        { Set-ServingHost -Name $job.Name -ApiWorkers 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        (Get-ServingHost -Name $job.Name).Workers | ForEach-Object Pid | Should -Be $before
    }

    It 'Wait-Job waits until the host ends' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        Wait-Job $job -Timeout 1 | Should -BeNullOrEmpty
        Stop-ServingHost -Name $job.Name
        Wait-Job $job -Timeout 10 | Should -Not -BeNullOrEmpty
    }

    It 'completes host names and service manifests with Tab' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name 'completion-demo'
        $line = 'Stop-ServingHost -Name completion-d'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'completion-demo'
        Push-Location $FixtureDirectory
        try {
            $line = 'Get-ServingPlan -Service Fix'
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'Fixture.psd1'
        }
        finally { Pop-Location }
    }

    It '-WhatIf starts nothing' {
        Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -WhatIf
        Get-ServingHost | Should -BeNullOrEmpty
        Get-Job | Where-Object PSJobTypeName -EQ 'ServingHost' | Should -BeNullOrEmpty
    }
}

Describe 'Development mode' {
    It '-Development serves the API and every runner from one process' {
        $job = Start-ServingHost -Development -Port 0 -HostAddress 127.0.0.1
        $info = Get-ServingHost -Name $job.Name
        $info.Mode | Should -Be 'Development'
        $info.Transport | Should -Be 'InProcess'
        $info.Workers.Name | Should -Be @('dev-1')
        (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":[6.7,3.0,5.2,2.3]}').label | Should -Be 'virginica'
        @(Get-WorkerPids -HostId $info.HostId).Count | Should -Be 1
    }

    It 'Restart-ServingHost replaces the one process with a successor that is ready first; Set-ServingHost says there is nothing to scale' {
        $job = Start-ServingHost -Development -Port 0 -HostAddress 127.0.0.1
        $info = Get-ServingHost -Name $job.Name
        $old = $info.Workers[0].Pid
        # A client that keeps sending on fresh connections throughout the restart: every answer is 200.
        $client = Start-ThreadJob -ArgumentList $info.Url {
            param($u)
            $codes = [System.Collections.Generic.List[int]]::new()
            $until = [DateTime]::UtcNow.AddSeconds(4)
            while ([DateTime]::UtcNow -lt $until) {
                try { $codes.Add((Invoke-WebRequest "$u/echo" -Method Post -Body 'x' -DisableKeepAlive -SkipHttpErrorCheck).StatusCode) }
                catch { $codes.Add(0) }
            }
            , $codes.ToArray()
        }
        Restart-ServingHost -Name $job.Name -Timeout 2
        $codes = $client | Wait-Job -Timeout 20 | Receive-Job
        $after = Get-ServingHost -Name $job.Name
        $after.Workers[0].Pid | Should -Not -Be $old
        $after.Workers[0].Restarts | Should -Be 1
        Test-ProcessAlive $old | Should -BeFalse
        $codes.Count | Should -BeGreaterThan 10
        $codes | Where-Object { $_ -ne 200 } | Should -BeNullOrEmpty
        { Set-ServingHost -Name $job.Name -ApiWorkers 2 -ErrorAction Stop } | Should -Throw '*development mode*'
    }
}

Describe 'Reload' {
    BeforeAll {
        $script:DemoAssembly = Join-Path (Split-Path $env:SERVING_TEST_MODULE) 'demo/Serving.Demo.dll'
        function New-ReloadService([string] $ExtraApi = '') {
            $dir = Join-Path $TestDrive "svc-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            New-Item -ItemType Directory -Path $dir | Out-Null
            Set-ReloadManifest $dir $ExtraApi
            return $dir
        }
        function Set-ReloadManifest([string] $Dir, [string] $ExtraApi = '') {
            Set-Content -LiteralPath (Join-Path $Dir 'service.psd1') -Value @"
@{
    Name       = 'reloadable'
    Assemblies = @('$DemoAssembly')
    Runners    = @(@{ Name = 'echo'; Type = 'Serving.Demo.EchoRunner'; Workers = 1 })
    Apis       = @(
        @{ Route = '/echo'; Runner = 'echo'; Method = 'echo'; Input = 'Bytes'; Output = 'Bytes' }
        $ExtraApi
    )
}
"@
        }
    }

    It 'a saved manifest starts exactly one new generation, ready before the old one stops, and Receive-Job shows the reload' {
        $dir = New-ReloadService
        $job = Start-ServingHost -Service (Join-Path $dir 'service.psd1') -Reload -ReloadExclude 'scratch/' -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Get-ServingHost -Name $job.Name
        $info.Generation | Should -Be 1
        $before = $info.Workers.Pid
        Wait-Until -What 'the reloader to say what it watches' { (Receive-Job $job -Keep | ForEach-Object Message) -match 'reloader: watching' }

        Set-ReloadManifest $dir "@{ Route = '/shout'; Runner = 'echo'; Method = 'echo'; Input = 'Text'; Output = 'Text' }"
        Wait-Until -TimeoutSeconds 30 -What 'generation 2 to serve' { (Get-ServingHost -Name $job.Name).Generation -eq 2 }
        # A connection this session kept open to generation 1's API worker is answered there until that worker has
        # drained (by design: nothing in flight fails); generation 2's answer follows within the drain.
        Wait-Until -TimeoutSeconds 10 -What 'the new route to answer' {
            try { (Invoke-RestMethod "$($info.Url)/shout" -Method Post -Body 'new route' -ContentType 'text/plain') -eq 'new route' } catch { $false }
        }
        Invoke-RestMethod "$($info.Url)/echo" -Method Post -Body 'old route' | Should -Be 'old route'
        Wait-Until -What 'generation 1 to be gone' { -not ($before | Where-Object { Test-ProcessAlive $_ }) }
        $after = Get-ServingHost -Name $job.Name
        $after.State | Should -Be 'Running'
        $after.Workers | ForEach-Object { $_.Generation | Should -Be 2 }
        $log = (Receive-Job $job -Keep | ForEach-Object Message) -join "`n"
        $log | Should -Match 'reloader: generation 2 starting \(service\.psd1 changed\)'
        $log | Should -Match 'reloader: generation 2 serving; generation 1 drains'
        $log | Should -Match 'api-1 generation 2: started \(pid \d+\)'
        ($job.ChildJobs | Where-Object Name -EQ 'reloader') | Should -Not -BeNullOrEmpty

        # Excluded files and editor droppings start nothing; the next real change is generation 3, not 4.
        New-Item -ItemType Directory -Path (Join-Path $dir 'scratch') | Out-Null
        Set-Content (Join-Path $dir 'scratch/notes.txt') 'x'
        Set-Content (Join-Path $dir 'service.psd1.swp') 'x'
        Start-Sleep -Milliseconds 1000 # longer than the quiet period: the check is that nothing happens
        (Get-ServingHost -Name $job.Name).Generation | Should -Be 2
        Set-ReloadManifest $dir
        Wait-Until -TimeoutSeconds 30 -What 'generation 3 to serve' { (Get-ServingHost -Name $job.Name).Generation -eq 3 }
    }

    It 'under -Wait the console shows what the reloader does, the new workers'' lines, and a failed reload as an error' {
        $dir = New-ReloadService
        $port = Get-FreePort
        $manifest = Join-Path $dir 'service.psd1'
        $child = Start-ChildPwsh @"
Import-Module '$env:SERVING_TEST_MODULE'
Start-ServingHost -Service '$manifest' -Reload -Port $port -HostAddress 127.0.0.1 -ApiWorkers 1 -Wait -StopTimeout 2 2>&1 | ForEach-Object { "`$_" }
'exited cleanly'
"@
        try {
            $output = $child.StandardOutput.ReadToEndAsync()
            Wait-Until -TimeoutSeconds 60 -What 'the foreground host is ready' {
                try { (Invoke-WebRequest "http://127.0.0.1:$port/readyz" -SkipHttpErrorCheck -TimeoutSec 2).StatusCode -eq 200 } catch { $false }
            }
            Set-ReloadManifest $dir "@{ Route = '/shout'; Runner = 'echo'; Method = 'echo'; Input = 'Text'; Output = 'Text' }"
            try {
                Wait-Until -TimeoutSeconds 30 -What 'generation 2 to serve /shout' {
                    try { (Invoke-WebRequest "http://127.0.0.1:$port/shout" -Method Post -Body 'x' -ContentType 'text/plain' -SkipHttpErrorCheck -TimeoutSec 2).StatusCode -eq 200 } catch { $false }
                }
            }
            catch {
                $child.Kill($true)
                throw "$_ The console said:`n$($output.Result)"
            }
            Set-Content -LiteralPath $manifest -Value '@{ not a manifest'
            # The failed reload changes nothing a client sees; give the reloader its quiet period and a moment to say so.
            Start-Sleep -Milliseconds 1500
            & kill -TERM $child.Id
            $child.WaitForExit(30000) | Should -BeTrue
            $text = $output.Result
            $text | Should -Match '\[reloader\] reloader: generation 2 starting \(service\.psd1 changed\)'
            $text | Should -Match '\[echo-1\] supervisor: echo-1 generation 2: started'
            $text | Should -Match '\[api-1\] .*listening on'
            $text | Should -Match '\[reloader\] reloader: generation 2 serving; generation 1 drains'
            $text | Should -Match 'was not reloaded: service\.psd1 changed, and the service cannot be loaded'
            $text | Should -Match 'exited cleanly'
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }

    It 'a broken manifest keeps the serving generation and puts the error in the job''s error stream' {
        $dir = New-ReloadService
        $job = Start-ServingHost -Service (Join-Path $dir 'service.psd1') -Reload -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Get-ServingHost -Name $job.Name
        Set-Content -LiteralPath (Join-Path $dir 'service.psd1') -Value "@{ Name = 'reloadable'; Runners = @(@{ Name = 'echo'; Type = 'No.Such.Type'; Workers = 1 }) "
        Wait-Until -TimeoutSeconds 30 -What 'the failed reload in the job''s error stream' { $job.Error.Count -gt 0 }
        $job.Error[0].FullyQualifiedErrorId | Should -Match '^ReloadFailed'
        $job.Error[0].Exception.Message | Should -Match 'was not reloaded: service\.psd1 changed, and the service cannot be loaded'
        $job.Error[0].Exception.Message | Should -Match 'Generation 1 keeps serving'
        $job.State | Should -Be 'Running'
        (Get-ServingHost -Name $job.Name).Generation | Should -Be 1
        Invoke-RestMethod "$($info.Url)/echo" -Method Post -Body 'still here' | Should -Be 'still here'

        # A runner type that loads but is not there: caught before any worker starts, too.
        Set-ReloadManifest $dir "@{ Route = '/nope'; Runner = 'echo'; Method = 'nothing'; Input = 'Text'; Output = 'Text' }"
        Wait-Until -TimeoutSeconds 30 -What 'the second failed reload' { $job.Error.Count -gt 1 }
        $job.Error[1].Exception.Message | Should -Match 'Generation 1 keeps serving'
        (Get-ServingHost -Name $job.Name).Generation | Should -Be 1
        Invoke-RestMethod "$($info.Url)/echo" -Method Post -Body 'still here' | Should -Be 'still here'
    }
}

Describe 'Runner transport over TCP' {
    It '-Transport Tcp runners listen on 127.0.0.1 only' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Transport Tcp
        $info = Get-ServingHost -Name $job.Name
        $info.Transport | Should -Be 'Tcp'
        $info.SocketDirectory | Should -BeNullOrEmpty
        $listening = Get-ListeningTcp
        foreach ($runner in $info.Workers | Where-Object Role -EQ 'Runner') {
            $runner.Endpoint | Should -Match '^127\.0\.0\.1:\d+$'
            $port = [int]($runner.Endpoint -split ':')[1]
            $sockets = @($listening | Where-Object Port -EQ $port)
            $sockets.Count | Should -BeGreaterThan 0
            $sockets.Ip | Sort-Object -Unique | Should -Be '127.0.0.1'
        }
        (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":[6.7,3.0,5.2,2.3]}').label | Should -Be 'virginica'
    }
}

Describe 'Runners of a running host' {
    It 'Get-ServingHost shows each runner''s workers, calls and batches, and the totals survive a respawn' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
        $info = Get-ServingHost -Name $job.Name
        # Known from the service's assembly from the start, before any worker reports.
        ($info.Runners | Where-Object Name -EQ 'classifier').Batchable | Should -BeTrue
        ($info.Runners | Where-Object Name -EQ 'echo').Batchable | Should -BeFalse
        $body = '{"features":[5.1,3.5,1.4,0.2]}'
        1..40 | ForEach-Object -ThrottleLimit 8 -Parallel {
            $null = Invoke-RestMethod "$($using:info.Url)/classify" -Method Post -Body $using:body -ContentType 'application/json'
        }
        $null = Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}' -ContentType 'application/json'
        Wait-Until -TimeoutSeconds 10 -What 'the classifier''s report of 41 calls' {
            ((Get-ServingHost -Name $job.Name).Runners | Where-Object Name -EQ 'classifier').Calls -ge 41
        }
        $runners = (Get-ServingHost -Name $job.Name).Runners
        $runners.Name | Should -Be @('echo', 'classifier')
        $classifier = $runners | Where-Object Name -EQ 'classifier'
        $classifier.Workers | Should -Be 1
        $classifier.Batchable | Should -BeTrue
        $classifier.Items | Should -Be 42
        $classifier.Batches | Should -BeGreaterThan 0
        $classifier.MeanBatchSize | Should -Be ([math]::Round(42 / $classifier.Batches, 2))
        ($runners | Where-Object Name -EQ 'echo').Batchable | Should -BeFalse
        ($runners | Format-Table | Out-String) | Should -Match 'MeanBatch'

        # A respawned worker starts counting afresh; the host's totals do not go backwards.
        & kill -9 (($info.Workers | Where-Object Name -EQ 'classifier-1').Pid)
        Wait-Until -TimeoutSeconds 10 -What 'a new classifier worker serves' {
            try { (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body $body -ContentType 'application/json' -TimeoutSec 2).label -eq 'setosa' } catch { $false }
        }
        Wait-Until -TimeoutSeconds 10 -What 'the new worker''s report' {
            ((Get-ServingHost -Name $job.Name).Runners | Where-Object Name -EQ 'classifier').Calls -ge 42
        }
        ((Get-ServingHost -Name $job.Name).Runners | Where-Object Name -EQ 'classifier').Items | Should -BeGreaterOrEqual 43
    }
}

Describe 'Respawn and the container rule' {
    It 'with -Respawn Always a SIGKILLed runner worker is replaced and serves again within 5 s' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Respawn Always
        $info = Get-ServingHost -Name $job.Name
        $old = ($info.Workers | Where-Object Name -EQ 'classifier-1').Pid
        & kill -9 $old
        Wait-Until -TimeoutSeconds 5 -What 'a new classifier worker serves' {
            $w = (Get-ServingHost -Name $job.Name).Workers | Where-Object Name -EQ 'classifier-1'
            if ($w.State -ne 'Running' -or $w.Pid -eq $old) { return $false }
            try { (Invoke-RestMethod "$($info.Url)/classify" -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}' -TimeoutSec 2).label -eq 'setosa' } catch { $false }
        }
        $w = (Get-ServingHost -Name $job.Name).Workers | Where-Object Name -EQ 'classifier-1'
        $w.Restarts | Should -Be 1
        (Get-ServingHost -Name $job.Name).State | Should -Be 'Running'
    }

    It 'inside a container (SERVING_CONTAINERIZED=true) a killed runner ends the host: Failed with the reason, the job Failed, nothing left' {
        $saved = $env:SERVING_CONTAINERIZED
        try {
            $env:SERVING_CONTAINERIZED = 'true'
            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -StopTimeout 5
            $info = Get-ServingHost -Name $job.Name
            $info.Respawn | Should -BeFalse
            $pids = $info.Workers.Pid
            & kill -9 ($info.Workers | Where-Object Name -EQ 'classifier-1').Pid
            Wait-Until -TimeoutSeconds 15 -What 'the host ends' { (Get-ServingHost -Name $job.Name).State -eq 'Failed' }
            $final = Get-ServingHost -Name $job.Name
            $final.Reason | Should -Match 'worker classifier-1 exited with code 137 \(SIGKILL\) and is not respawned'
            ($final.Workers | Where-Object Name -EQ 'classifier-1').State | Should -Be 'Exited'
            ($final.Workers | Where-Object Name -EQ 'classifier-1').Restarts | Should -Be 0
            Wait-Until -TimeoutSeconds 5 -What 'the job ends Failed' { $job.State -eq 'Failed' }
            "$($job.Error[0])" | Should -Match 'classifier-1 exited'
            # The other workers were stopped gracefully (exit code 0), and nothing is left.
            ($final.Workers | Where-Object Name -NE 'classifier-1').LastExitCode | Should -Be @(0, 0)
            foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
            Test-Path $info.SocketDirectory | Should -BeFalse
            Test-PortFree ([uri]$info.Url).Port | Should -BeTrue
            (Receive-Job $job -ErrorAction SilentlyContinue | Where-Object Stream -EQ 'supervisor').Message -join "`n" | Should -Match 'the host ends'
        }
        finally { $env:SERVING_CONTAINERIZED = $saved }
    }

    It 'SERVING_CONTAINERIZED=false turns respawn back on by default' {
        $saved = $env:SERVING_CONTAINERIZED
        try {
            $env:SERVING_CONTAINERIZED = 'false'
            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
            (Get-ServingHost -Name $job.Name).Respawn | Should -BeTrue
        }
        finally { $env:SERVING_CONTAINERIZED = $saved }
    }
}

Describe 'Lifeline' {
    It 'when the pwsh process running a host is SIGKILLed, all its workers are gone within 5 s' {
        $pidFile = Join-Path $TestDrive 'pids.txt'
        $child = Start-ChildPwsh @"
Import-Module '$env:SERVING_TEST_MODULE'
`$h = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Respawn Always
(Get-ServingHost).Workers.Pid -join ',' | Set-Content '$pidFile'
while (`$true) { Start-Sleep -Seconds 1 }
"@
        try {
            Wait-Until -TimeoutSeconds 60 -What 'the child host reports its workers' { (Test-Path $pidFile) -and (Get-Content $pidFile) }
            $pids = (Get-Content $pidFile) -split ',' | ForEach-Object { [int]$_ }
            $pids.Count | Should -Be 4
            foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeTrue }
            & kill -9 $child.Id
            Wait-Until -TimeoutSeconds 5 -What 'every worker exited' { -not ($pids | Where-Object { Test-ProcessAlive $_ }) }
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            if ($pids) { foreach ($p in $pids) { if (Test-ProcessAlive $p) { & kill -9 $p } } }
        }
    }

    It '-Wait serves in the foreground and stops cleanly on SIGTERM' {
        $port = Get-FreePort
        $child = Start-ChildPwsh @"
Import-Module '$env:SERVING_TEST_MODULE'
Start-ServingHost -Port $port -HostAddress 127.0.0.1 -ApiWorkers 1 -Wait -StopTimeout 5 | Out-Null
'exited cleanly'
"@
        try {
            Wait-Until -TimeoutSeconds 60 -What 'the foreground host is ready' {
                try { (Invoke-WebRequest "http://127.0.0.1:$port/readyz" -SkipHttpErrorCheck -TimeoutSec 2).StatusCode -eq 200 } catch { $false }
            }
            $pids = @(Get-ChildPids $child.Id)
            $pids.Count | Should -Be 3
            & kill -TERM $child.Id
            $child.WaitForExit(20000) | Should -BeTrue -Because 'SIGTERM stops the host and pwsh exits'
            $child.StandardOutput.ReadToEnd() | Should -Match 'exited cleanly'
            foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
            Test-PortFree $port | Should -BeTrue
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }
    It '-Wait inside a container ends with an error (pwsh exits 1) when a worker is gone for good, leaving nothing' {
        $port = Get-FreePort
        $child = $null
        try {
            $child = Start-ContainerizedForegroundHost -Port $port -ApiWorkers 1
            $pids = @(Get-ChildPids $child.Id)
            $pids.Count | Should -Be 3
            & kill -9 (Get-WorkerPidByName -Pids $pids -Name 'echo-1')
            $child.WaitForExit(20000) | Should -BeTrue -Because 'the host ends by itself'
            $child.ExitCode | Should -Be 1
            $child.StandardError.ReadToEnd() | Should -Match "HostFailed|Host 'demo' failed: worker echo-1 exited"
            foreach ($p in $pids) { Test-ProcessAlive $p | Should -BeFalse }
            Test-PortFree $port | Should -BeTrue
        }
        finally {
            if ($child -and -not $child.HasExited) { $child.Kill($true) }
        }
    }
}

Describe 'Errors before anything starts' {
    It 'a port already in use is PortInUse, with nothing left running' {
        $taken = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $taken.Start()
        try {
            $port = $taken.LocalEndpoint.Port
            $before = @(Get-ChildItem /tmp -Directory -Filter 'serving-*').Count
            Get-ErrorId { Start-ServingHost -Port $port -HostAddress 127.0.0.1 } | Should -BeLike 'PortInUse,*'
            Get-ServingHost | Where-Object State -NE 'Failed' | Should -BeNullOrEmpty
            @(Get-WorkerPids).Count | Should -Be 0
            @(Get-ChildItem /tmp -Directory -Filter 'serving-*').Count | Should -BeLessOrEqual $before
        }
        finally { $taken.Stop() }
    }

    It 'a bad -HostAddress is InvalidHostAddress' {
        Get-ErrorId { Start-ServingHost -Port 0 -HostAddress 'not-an-ip' } | Should -BeLike 'InvalidHostAddress,*'
    }

    It 'an invalid manifest is <Id>' -TestCases @(
        @{ Id = 'InvalidServiceManifest'; Text = "@{ Name = 'x'; Assemblies = @('a.dll'); Runners = @(@{ Name = 'r'; Type = 'T' }); Apis = @(@{ Route = '/a'; Runner = 'r'; Method = 'm' }); Colour = 'red' }"; Match = "unknown key 'Colour'" }
        @{ Id = 'InvalidServiceManifest'; Text = "@{ Name = 'x'; Assemblies = @('a.dll'); Runners = @(@{ Name = 'r'; Type = 'T' }); Apis = @(@{ Route = '/a'; Runner = 'nope'; Method = 'm' }) }"; Match = "runner 'nope'" }
        @{ Id = 'DuplicateRoute'; Text = "@{ Name = 'x'; Assemblies = @('a.dll'); Runners = @(@{ Name = 'r'; Type = 'T' }); Apis = @(@{ Route = '/a'; Runner = 'r'; Method = 'm' }, @{ Route = '/a'; Runner = 'r'; Method = 'n' }) }"; Match = "'/a'" }
        @{ Id = 'ServiceAssemblyNotFound'; Text = "@{ Name = 'x'; Assemblies = @('missing.dll'); Runners = @(@{ Name = 'r'; Type = 'T' }); Apis = @(@{ Route = '/a'; Runner = 'r'; Method = 'm' }) }"; Match = 'missing.dll' }
        @{ Id = 'InvalidServiceManifest'; Text = "@{ Name = 'x'; Assemblies = @(Get-Date) }"; Match = 'constant' }
    ) {
        param($Id, $Text, $Match)
        $path = Join-Path $TestDrive "svc-$([guid]::NewGuid().ToString('N')).psd1"
        Set-Content -LiteralPath $path -Value $Text
        $err = $null
        try { Start-ServingHost -Service $path -Port 0 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err.Exception.Message | Should -Match ([regex]::Escape($path))
        $err.Exception.Message | Should -Match ([regex]::Escape($Match))
        @(Get-WorkerPids).Count | Should -Be 0
    }

    It 'a runner type the assemblies do not define is RunnerTypeNotFound' {
        $path = New-FixtureManifest -Type 'Serving.Fixture.NoSuchRunner'
        $err = $null
        try { Start-ServingHost -Service $path -Port 0 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'RunnerTypeNotFound,*'
        $err.Exception.Message | Should -Match 'Serving.Fixture.NoSuchRunner'
    }

    It 'a method the runner does not have is RunnerTypeNotFound naming the methods it has' {
        $path = New-FixtureManifest -Method 'shout'
        $err = $null
        try { Start-ServingHost -Service $path -Port 0 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'RunnerTypeNotFound,*'
        $err.Exception.Message | Should -Match 'shout'
        $err.Exception.Message | Should -Match 'reverse'
    }

    It 'a worker that fails while starting fails Start with its last log lines and leaves nothing running' {
        $path = New-FixtureManifest -Environment @{ FIXTURE_FAIL_INIT = '1' }
        $err = $null
        try { Start-ServingHost -Service $path -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'WorkerStartFailed,*'
        $err.Exception.Message | Should -Match 'model weights could not be loaded'
        @(Get-WorkerPids).Count | Should -Be 0
        Get-Job | Where-Object PSJobTypeName -EQ 'ServingHost' | Should -BeNullOrEmpty
    }
}

Describe 'A user''s own runner assembly' {
    It 'serves the fixture service: its methods, per-worker environment, errors without stack traces, deadlines' {
        $job = Start-ServingHost -Service $FixtureManifest -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -RequestTimeout 1
        $info = Get-ServingHost -Name $job.Name
        $info.Service | Should -Be 'fixture'
        $info.Workers.Name | Should -Be @('text-1', 'text-2', 'api-1')

        Invoke-RestMethod "$($info.Url)/reverse" -Method Post -Body 'stressed' -ContentType 'text/plain' | Should -Be 'desserts'
        (Invoke-RestMethod "$($info.Url)/sum" -Method Post -Body '{"values":[1,2,3.5]}' -ContentType 'application/json').sum | Should -Be 6.5

        foreach ($w in $info.Workers | Where-Object Role -EQ 'Runner') {
            $environ = Get-ProcessEnvironment $w.Pid
            $environ['FIXTURE_GREETING'] | Should -Be 'hello'
            $environ['SERVING_WORKER_INDEX'] | Should -Be "$($w.Index)"
            $environ['FIXTURE_DEVICE'] | Should -Be ('gpu{0}' -f ($w.Index - 1))
            $environ['SERVING_ROLE'] | Should -Be 'runner'
        }

        $fail = Invoke-WebRequest "$($info.Url)/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck
        $fail.StatusCode | Should -Be 500
        $fail.Headers['Content-Type'] | Should -Be 'application/problem+json'
        $text = Get-ResponseText $fail
        $text | Should -Not -Match '\bat Serving\.'
        $text | Should -Not -Match 'StackTrace|\.cs:line|Exception|System\.'
        $problem = $text | ConvertFrom-Json
        $problem.errorId | Should -Be 'RunnerFailed'
        $problem.type | Should -Be 'urn:serving:problem:runner-failed'
        $problem.detail | Should -Match ([regex]::Escape($problem.requestId))
        # The operator finds the client's request id in the host's log, and the exception behind it.
        Wait-Until -TimeoutSeconds 5 -What 'the log line with the request id' {
            (Receive-Job $job -Keep | Where-Object Message -Match ([regex]::Escape("RunnerFailed request $($problem.requestId):"))).Count -ge 1
        }
        # The exception follows the runner's line on indented lines of its own, at the line's level.
        Wait-Until -TimeoutSeconds 5 -What 'the runner''s line with the exception below it' {
            $failed = @(Get-ServingLog -InputObject $job -Worker 'text-*' | Where-Object Message -Match "^RunnerFailed request $([regex]::Escape($problem.requestId)):")
            if ($failed.Count -eq 0) { return $false }
            $lines = @(Get-ServingLog -InputObject $job -Worker $failed[0].Worker)
            $at = [array]::FindIndex($lines, [Predicate[object]] { param($l) $l.Message -eq $failed[0].Message })
            $at + 1 -lt $lines.Count -and $lines[$at + 1].Message -match '^\s+System\.InvalidOperationException: boom' -and "$($lines[$at + 1].Level)" -eq 'Error'
        }

        $slow = Invoke-WebRequest "$($info.Url)/slow" -Method Post -Body '{"ms":5000}' -ContentType 'application/json' -SkipHttpErrorCheck
        $slow.StatusCode | Should -Be 504

        $bad = Invoke-WebRequest "$($info.Url)/sum" -Method Post -Body 'not json' -ContentType 'application/json' -SkipHttpErrorCheck
        $bad.StatusCode | Should -Be 400
        (Get-ResponseText $bad | ConvertFrom-Json).errorId | Should -Be 'InvalidJson'

        $huge = Invoke-WebRequest "$($info.Url)/sum" -Method Post -Body '{"values":[1,1e309]}' -ContentType 'application/json' -SkipHttpErrorCheck
        $huge.StatusCode | Should -Be 400
        (Get-ResponseText $huge | ConvertFrom-Json).detail | Should -Be 'invalid input in $.values[1]: expected a number, got 1e309 (out of range)'
    }
}
}
