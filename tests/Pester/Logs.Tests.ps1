BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1
}

Describe 'The host''s log' {
AfterEach {
    # Every test cleans up its hosts and jobs, even when it failed.
    Remove-AllServingHosts
}

AfterAll {
    Remove-AllServingHosts
}

Describe 'Get-ServingLog' {
    It 'gives the lines of every worker in time order, with levels, and leaves Receive-Job''s lines in place' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 2 -Name logs-order
        Wait-Until -What 'every worker to say it listens' { @(Get-ServingLog logs-order | Where-Object Message -Match 'listening on').Count -ge 4 }
        $lines = @(Get-ServingLog logs-order)
        ($lines.Worker | Sort-Object -Unique) | Should -Be @('api-1', 'api-2', 'classifier-1', 'echo-1')
        for ($i = 1; $i -lt $lines.Count; $i++) { $lines[$i].Time | Should -BeGreaterOrEqual $lines[$i - 1].Time }
        $lines[0].PSObject.TypeNames[0] | Should -Be 'Serving.Runtime.Supervision.WorkerLogEntry'
        $lines | ForEach-Object { "$($_.Level)" } | Sort-Object -Unique | Should -Be @('Information')
        # The level prefix is the Level, not part of the message.
        $lines.Message | Where-Object { $_ -match '^(info|warn|fail): ' } | Should -BeNullOrEmpty

        # Reading again gives them again; Receive-Job still has all of them, once.
        @(Get-ServingLog logs-order).Count | Should -BeGreaterOrEqual $lines.Count
        $received = @(Receive-Job $job)
        $received.Count | Should -BeGreaterOrEqual $lines.Count
        @(Receive-Job $job).Count | Should -Be 0
        @(Get-ServingLog logs-order).Count | Should -BeGreaterOrEqual $lines.Count

        # The format view shows the level.
        ($lines[0] | Out-String -Width 200) | Should -Match '\d\d:\d\d:\d\d\.\d{3}\s+info\s+\S+\s+'
    }

    It '-Tail, -Worker and -Level select lines; -Id and a piped job select the host' {
        $job = Start-ServingHost -Service $FixtureManifest -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-filter
        $url = (Get-ServingHost logs-filter).Url
        $fail = Invoke-WebRequest "$url/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck
        $fail.StatusCode | Should -Be 500
        Wait-Until -What 'the failure in the log' { @(Get-ServingLog logs-filter -Level Error).Count -ge 2 }

        $all = @(Get-ServingLog logs-filter)
        $tail = @(Get-ServingLog logs-filter -Tail 3)
        $tail.Count | Should -Be 3
        $tail.Message | Should -Be ($all | Select-Object -Last 3).Message

        $errors = @(Get-ServingLog logs-filter -Level Error)
        $errors | ForEach-Object { [int]$_.Level | Should -BeGreaterOrEqual 4 }
        # The API worker and the runner worker both log the 500.
        $errors.Worker | Should -Contain 'api-1'
        @($errors.Worker | Where-Object { $_ -match '^text-\d$' }).Count | Should -BeGreaterThan 0
        @(Get-ServingLog logs-filter -Level Warning).Count | Should -BeLessThan $all.Count

        $api = @(Get-ServingLog logs-filter -Worker 'api-*')
        $api.Count | Should -BeGreaterThan 0
        $api.Worker | Sort-Object -Unique | Should -Be @('api-1')
        @(Get-ServingLog logs-filter -Worker 'text-1', 'api-1').Worker | Sort-Object -Unique | Should -Be @('api-1', 'text-1')

        @(Get-ServingLog -Id $job.Host.Id).Count | Should -BeGreaterOrEqual $all.Count
        @($job | Get-ServingLog -Tail 1).Count | Should -Be 1
        @(Get-ServingHost logs-filter | Get-ServingLog -Tail 1).Count | Should -Be 1
        Get-ServingLog nope-no-such-host -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Match '^HostNotFound'
    }

    It '-Follow writes new lines as they arrive and ends when the host is stopped' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-follow
        $before = @(Get-ServingLog logs-follow).Count
        $collected = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
        # Another runspace of this process, so this one can stop the host meanwhile: hosts belong to the process.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                param($q, $module)
                Import-Module $module
                Get-ServingLog logs-follow -Follow | ForEach-Object { $q.Enqueue($_) }
            }).AddArgument($collected).AddArgument($env:SERVING_TEST_MODULE)
            $async = $ps.BeginInvoke()
            Wait-Until -What 'the kept lines to be written' { $collected.Count -ge $before }
            $async.IsCompleted | Should -BeFalse -Because 'it follows until the host ends'
            Restart-ServingHost -Name logs-follow
            Wait-Until -TimeoutSeconds 30 -What 'the restart''s lines to be followed' { @($collected.ToArray() | Where-Object Message -Match 'restarting on request').Count -ge 1 }
            Stop-ServingHost -Name logs-follow -Timeout 5
            Wait-Until -TimeoutSeconds 10 -What '-Follow to end with the host' { $async.IsCompleted }
            $ps.EndInvoke($async) | Out-Null
            # The workers' last words, written before the end.
            @($collected.ToArray() | Where-Object Message -Match 'stopped').Count | Should -BeGreaterThan 0
        }
        finally {
            if ($ps.InvocationStateInfo.State -eq 'Running') { $ps.Stop() }
            $ps.Dispose()
        }
    }
}

Describe 'Log formats and levels' {
    It '-LogFormat Json: workers write JSON lines, which Get-ServingLog reads back into levels and messages' {
        $job = Start-ServingHost -Service $FixtureManifest -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-json -LogFormat Json
        $url = (Get-ServingHost logs-json).Url
        $fail = Invoke-WebRequest "$url/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck
        $requestId = (Get-ResponseText $fail | ConvertFrom-Json).requestId
        Wait-Until -What 'the runner''s failure with its exception' {
            @(Get-ServingLog logs-json -Level Error | Where-Object { $_.Exception -match 'InvalidOperationException: boom' }).Count -ge 1
        }
        $line = @(Get-ServingLog logs-json -Level Error | Where-Object { $_.Exception -match 'boom' })[0]
        $line.Message | Should -Match "^RunnerFailed request $([regex]::Escape($requestId)):"
        $line.Fields['RequestId'] | Should -Be $requestId
        $line.Worker | Should -Match '^text-\d$'
        # The exception is one field: no line of the log continues another.
        @(Get-ServingLog logs-json | Where-Object Message -Match '^\s') | Should -BeNullOrEmpty
        @(Get-ServingLog logs-json | Where-Object Message -Match 'listening on').Count | Should -Be 3
    }

    It '-AccessLog writes one line per request, with the request id the response carried, in JSON and in text' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-access -AccessLog -LogFormat Json
        $url = (Get-ServingHost logs-access).Url
        $ok = Invoke-WebRequest "$url/classify" -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json' `
            -Headers @{ 'X-Request-Id' = 'access-test-1' }
        [string]$ok.Headers['X-Request-Id'] | Should -Be 'access-test-1'
        $bad = Invoke-WebRequest "$url/classify" -Method Post -Body '{"features":[1]}' -ContentType 'application/json' -SkipHttpErrorCheck
        $badId = [string]$bad.Headers['X-Request-Id']
        (Get-ResponseText $bad | ConvertFrom-Json).requestId | Should -Be $badId
        (Invoke-WebRequest "$url/nope" -SkipHttpErrorCheck).StatusCode | Should -Be 404
        # Probes and scrapes are not requests of the service: no lines.
        Invoke-WebRequest "$url/readyz" | Out-Null
        Invoke-WebRequest "$url/metrics" | Out-Null
        Wait-Until -What 'three access lines' { @(Get-ServingLog logs-access | Where-Object Event -EQ 'access').Count -ge 3 }
        $access = @(Get-ServingLog logs-access | Where-Object Event -EQ 'access')
        $access.Count | Should -Be 3
        $first = $access[0]
        $first.Worker | Should -Be 'api-1'
        $first.Fields['Method'] | Should -Be 'POST'
        $first.Fields['Route'] | Should -Be '/classify'
        $first.Fields['Status'] | Should -Be '200'
        $first.Fields['RequestId'] | Should -Be 'access-test-1'
        $first.Fields['Generation'] | Should -Be '1'
        [int]$first.Fields['BytesIn'] | Should -Be 30
        [int]$first.Fields['BytesOut'] | Should -BeGreaterThan 0
        [double]$first.Fields['DurationMs'] | Should -BeGreaterThan 0
        $access[1].Fields['Status'] | Should -Be '400'
        $access[1].Fields['RequestId'] | Should -Be $badId
        $access[2].Fields['Status'] | Should -Be '404'
        $access[2].Fields['Route'] | Should -Be '/nope'

        Stop-ServingHost -Name logs-access
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-access-text -AccessLog
        $url = (Get-ServingHost logs-access-text).Url
        Invoke-WebRequest "$url/classify" -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json' `
            -Headers @{ 'X-Request-Id' = 'access-test-2' } | Out-Null
        Wait-Until -What 'the access line' { @(Get-ServingLog logs-access-text | Where-Object Message -Match 'access-test-2').Count -eq 1 }
        (Get-ServingLog logs-access-text | Where-Object Message -Match 'access-test-2').Message |
            Should -Match '^POST /classify 200 [\d.]+ ms 30 B in \d+ B out gen 1 id access-test-2$'
    }

    It '-LogLevel Warning drops information lines and keeps warnings and errors' {
        $job = Start-ServingHost -Service $FixtureManifest -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name logs-level -LogLevel Warning
        $url = (Get-ServingHost logs-level).Url
        (Invoke-WebRequest "$url/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck).StatusCode | Should -Be 500
        Wait-Until -What 'the failure in the log' { @(Get-ServingLog logs-level).Count -ge 1 }
        $lines = @(Get-ServingLog logs-level)
        $lines | ForEach-Object { [int]$_.Level | Should -BeGreaterOrEqual 3 }
        $lines.Message | Should -Not -Contain 'listening on'
        @(Receive-Job $job | Where-Object { [int]$_.Level -lt 3 }) | Should -BeNullOrEmpty
    }
}

Describe 'Start-ServingHost -Wait output' {
    BeforeAll {
        function Start-LineReader([System.Diagnostics.Process] $Process) {
            <# .SYNOPSIS Collects a child's stdout lines as they come: Update-Lines moves those read so far into .Lines. #>
            $reader = [pscustomobject]@{ Stream = $Process.StandardOutput; Pending = $null; Lines = [System.Collections.Generic.List[string]]::new(); Ended = $false }
            $reader.Pending = $reader.Stream.ReadLineAsync()
            return $reader
        }
        function Update-Lines($Reader) {
            while (-not $Reader.Ended -and $Reader.Pending.IsCompleted) {
                $line = $Reader.Pending.Result
                if ($null -eq $line) { $Reader.Ended = $true; break }
                $Reader.Lines.Add($line)
                $Reader.Pending = $Reader.Stream.ReadLineAsync()
            }
        }
        function Wait-ForegroundServing($Reader, [System.Diagnostics.Process] $Child) {
            # The supervisor's own "serving" line is written once -Wait handles SIGTERM: a stop before it would not be graceful.
            Wait-Until -TimeoutSeconds 60 -What 'the foreground host to say it serves' {
                Update-Lines $Reader
                if ($Child.HasExited -and $Reader.Ended) { throw "The foreground host exited with code $($Child.ExitCode):`n$($Reader.Lines -join "`n")" }
                @($Reader.Lines | Where-Object { $_ -match 'serving ''fixture'' at ' }).Count -gt 0
            }
        }
        function Wait-LinesEnd($Reader, [System.Diagnostics.Process] $Child) {
            $Child.WaitForExit(30000) | Should -BeTrue
            Wait-Until -What 'the end of the output' { Update-Lines $Reader; $Reader.Ended }
            return , $Reader.Lines.ToArray()
        }
    }

    It 'writes one physical line per log line at width 40 outside a terminal, the exception on indented lines' {
        $port = Get-FreePort
        $child = Start-ChildPwsh @"
`$env:COLUMNS = '40'
try { `$Host.UI.RawUI.BufferSize = [System.Management.Automation.Host.Size]::new(40, 300) } catch { }
Import-Module '$env:SERVING_TEST_MODULE'
Start-ServingHost -Service '$FixtureManifest' -Port $port -HostAddress 127.0.0.1 -ApiWorkers 1 -Wait -StopTimeout 2
'exited cleanly'
"@
        try {
            $reader = Start-LineReader $child
            Wait-ForegroundServing $reader $child
            $fail = Invoke-WebRequest "http://127.0.0.1:$port/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck
            $requestId = (Get-ResponseText $fail | ConvertFrom-Json).requestId
            # The stop drains the workers and writes their last lines (and those before) before pwsh exits.
            & kill -TERM $child.Id
            $lines = Wait-LinesEnd $reader $child
            $all = $lines -join "`n"
            $lines | Should -Contain 'exited cleanly'
            $listening = @($lines | Where-Object { $_ -match '^\d\d:\d\d:\d\d\.\d{3} info \[api-1\] api-1 listening on http://127\.0\.0\.1:\d+$' })
            $listening.Count | Should -Be 1 -Because "a line longer than 40 columns stays one line:`n$($all)"
            $listening[0].Length | Should -BeGreaterThan 40
            $at = [array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match "^\d\d:\d\d:\d\d\.\d{3} fail \[text-\d\] RunnerFailed request $([regex]::Escape($requestId)): .*failed$" })
            $at | Should -BeGreaterOrEqual 0 -Because "the runner's line is there, with nothing joined onto it:`n$($all)"
            $lines[$at + 1] | Should -Match '^\d\d:\d\d:\d\d\.\d{3} fail \[text-\d\]\s{5,}System\.InvalidOperationException: boom'
            $lines | Where-Object { $_ -match ' \| ' } | Should -BeNullOrEmpty
            @($lines | Where-Object { $_ -match '^\d\d:\d\d:\d\d\.\d{3} info \[supervisor\] serving ''fixture'' at http://127\.0\.0\.1:\d+ \(Ctrl\+C to stop\)$' }).Count | Should -Be 1
            @($lines | Where-Object { $_ -match '^\d\d:\d\d:\d\d\.\d{3} info \[api-1\] supervisor: api-1 started \(pid \d+\)$' }).Count | Should -Be 1 -Because 'the start''s lines come first'
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }

    It '-LogFormat Json writes exactly one JSON object per line, the supervisor''s lines too' {
        $port = Get-FreePort
        $child = Start-ChildPwsh @"
`$env:COLUMNS = '40'
Import-Module '$env:SERVING_TEST_MODULE'
Start-ServingHost -Service '$FixtureManifest' -Port $port -HostAddress 127.0.0.1 -ApiWorkers 1 -Wait -StopTimeout 2 -LogFormat Json
"@
        try {
            $reader = Start-LineReader $child
            Wait-ForegroundServing $reader $child
            $fail = Invoke-WebRequest "http://127.0.0.1:$port/fail" -Method Post -Body '{}' -ContentType 'application/json' -SkipHttpErrorCheck
            $requestId = (Get-ResponseText $fail | ConvertFrom-Json).requestId
            & kill -TERM $child.Id
            $lines = @(Wait-LinesEnd $reader $child | Where-Object { $_ })
            $objects = foreach ($line in $lines) {
                $line | Should -Match '^\{.*\}$'
                $line | ConvertFrom-Json
            }
            foreach ($o in $objects) {
                $o.PSObject.Properties.Name[0..4] | Should -Be @('timestamp', 'level', 'worker', 'event', 'message')
            }
            $failure = @($objects | Where-Object { $_.message -match "^RunnerFailed request $([regex]::Escape($requestId)):" -and $_.worker -match '^text-' })
            $failure.Count | Should -Be 1
            $failure[0].level | Should -Be 'Error'
            $failure[0].exception | Should -Match 'InvalidOperationException: boom'
            $failure[0].fields.RequestId | Should -Be $requestId
            @($objects | Where-Object { $_.worker -eq 'supervisor' -and $_.event -eq 'host' -and $_.message -match '^serving ' }).Count | Should -Be 1
            @($objects | Where-Object { $_.event -eq 'supervisor' -and $_.message -match 'api-1 started' }).Count | Should -Be 1
            @($objects | Where-Object { $_.worker -eq 'supervisor' -and $_.message -eq 'stopped' }).Count | Should -Be 1
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }
}
}
