# Watch-ServingHost under a real terminal: tmux runs a pwsh that starts a host and watches it, the
# test reads the screen with capture-pane. Also what Get-ServingHost gives scripts (Uptime, JobId,
# HttpVersion) and the refusal to draw when the output is not a terminal.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1

    if (-not (Get-Command tmux -ErrorAction Ignore)) { throw 'tmux is needed by the Watch-ServingHost tests (.ci/run installs it).' }

    function Get-Screen {
        <# .SYNOPSIS The tmux pane's text as it is on screen now. #>
        (& tmux -L $script:Socket capture-pane -p -t watch 2>$null) -join "`n"
    }

    function Send-Classify([string] $Url, [int] $Count) {
        for ($i = 0; $i -lt $Count; $i++) {
            Invoke-WebRequest -Method Post -Uri "$Url/classify" -Body '{"features":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json' | Out-Null
        }
    }
}

Describe 'Watch-ServingHost in a terminal' {
    BeforeEach {
        $script:Socket = 'serving-watch-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $script:Port = Get-FreePort
        $script:PidFile = Join-Path $TestDrive "pwsh-$($script:Socket).pid"
        $script:SocketPath = $null
        $script:Url = "http://127.0.0.1:$($script:Port)"
        $script:ScriptFile = Join-Path $TestDrive "watch-$($script:Socket).ps1"
        Set-Content -LiteralPath $script:ScriptFile -Value @"
`$ErrorActionPreference = 'Stop'
Set-Content -LiteralPath '$($script:PidFile)' -Value `$PID
Import-Module '$env:SERVING_TEST_MODULE'
`$h = Start-ServingHost -Port $($script:Port) -HostAddress 127.0.0.1 -ApiWorkers 2 -WarningAction SilentlyContinue
Watch-ServingHost
'WATCH ENDED'
Get-ServingHost | ForEach-Object { "HOST STATE `$(`$_.State)" }
`$null = Read-Host 'Enter stops the host'
Get-ServingHost | Stop-ServingHost -Timeout 5
'HOST STOPPED'
`$null = Read-Host 'Enter ends'
"@
        $pwshArgs = @(if ((Split-Path -Leaf ([Environment]::ProcessPath)) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $command = (@([Environment]::ProcessPath) + $pwshArgs + @('-NoProfile', '-File', $script:ScriptFile) | ForEach-Object { "'$_'" }) -join ' '
        # A fixed size, so the screen is the same wherever the test runs; NO_COLOR as in CI.
        & tmux -L $script:Socket new-session -d -s watch -x 160 -y 45 -e NO_COLOR=1 $command
        if ($LASTEXITCODE -ne 0) { throw "tmux new-session failed ($LASTEXITCODE)." }
        $script:SocketPath = & tmux -L $script:Socket display-message -p '#{socket_path}'
    }

    AfterEach {
        # Even when the test failed: the pwsh in tmux (its workers exit when it dies: their lifeline
        # closes), then tmux's server on our own socket and nothing else.
        if (Test-Path $script:PidFile) {
            $childPid = [int](Get-Content -LiteralPath $script:PidFile)
            $workers = @(Get-ChildPids $childPid)
            try { (Get-Process -Id $childPid -ErrorAction Stop).Kill($true) } catch { }
            foreach ($p in $workers) { & kill -9 $p 2>$null }
        }
        & tmux -L $script:Socket kill-server 2>$null
        if ($script:SocketPath) { Remove-Item -LiteralPath $script:SocketPath -Force -ErrorAction Ignore }
    }

    It 'shows every worker and a request rate, leaves on q, and the host keeps serving' {
        Wait-Until -TimeoutSeconds 90 -What 'the watch screen with the workers' {
            (Test-Path $script:PidFile) -and (Get-Screen) -match 'WORKER\s+ROLE\s+PID'
        }
        $childPid = [int](Get-Content -LiteralPath $script:PidFile)
        $workerPids = @(Get-ChildPids $childPid | Where-Object { [IO.File]::ReadAllText("/proc/$_/cmdline") -match 'Serving\.Worker' })
        $workerPids.Count | Should -Be 4

        # Requests keep coming while the screen is read: the rate is over the last interval.
        Wait-Until -TimeoutSeconds 30 -What 'a non-zero request rate for /classify' {
            Send-Classify $script:Url 5
            (Get-Screen) -match '/classify\s+http\s+(\d+\.\d+)' -and [double]$Matches[1] -gt 0
        }
        $screen = Get-Screen
        foreach ($name in 'api-1', 'api-2', 'classifier-1', 'echo-1') {
            $screen | Should -Match "(?m)^$name\s+(api|runner)\s+\d+\s+Running\s" -Because "$name has a row"
        }
        foreach ($p in $workerPids) { $screen | Should -Match "\s$p\s+Running\s" -Because "worker pid $p is on screen" }
        $screen | Should -Match "(?m)^supervisor\s+pwsh\s+$childPid\s"
        $screen | Should -Match "demo\s+http://127\.0\.0\.1:$($script:Port)\s+Running\s+gen 1\s+up \d\d:\d\d:\d\d\s+job \d+"
        $screen | Should -Match '(?m)^classifier\s+1\s'
        $screen | Should -Match 'q: quit'
        # Cut to the width, never wrapped.
        foreach ($line in $screen -split "`n") { $line.Length | Should -BeLessOrEqual 160 }

        & tmux -L $script:Socket send-keys -t watch q
        Wait-Until -TimeoutSeconds 15 -What 'the watch to end' { (Get-Screen) -match 'HOST STATE' }
        (Get-Screen) | Should -Match 'HOST STATE Running'
        (Get-Screen) | Should -Not -Match 'WORKER\s+ROLE' -Because 'the alternate screen is left: the user''s screen is back'
        (Invoke-WebRequest "$($script:Url)/readyz" -SkipHttpErrorCheck).StatusCode | Should -Be 200
        foreach ($p in $workerPids) { Test-ProcessAlive $p | Should -BeTrue -Because 'q leaves the watch, not the host' }
        Send-Classify $script:Url 1

        & tmux -L $script:Socket send-keys -t watch Enter
        Wait-Until -TimeoutSeconds 30 -What 'the host to stop' { (Get-Screen) -match 'HOST STOPPED' }
        Wait-Until -TimeoutSeconds 10 -What 'every worker to exit' { -not ($workerPids | Where-Object { Test-ProcessAlive $_ }) }
        Test-PortFree $script:Port | Should -BeTrue
    }
}

Describe 'Watch-ServingHost without a terminal' {
    It 'refuses with WatchRequiresTerminal when its output is redirected, and names Get-ServingHost' {
        $child = Start-ChildPwsh @"
Import-Module '$env:SERVING_TEST_MODULE'
try { Watch-ServingHost } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }
"@
        try {
            $output = $child.StandardOutput.ReadToEnd()
            $child.WaitForExit(60000) | Should -BeTrue
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) } }
        $output | Should -Match 'WatchRequiresTerminal,Serving\.Cmdlets\.WatchServingHostCommand'
        $output | Should -Match 'output is redirected'
        $output | Should -Match 'Get-ServingHost'
        $output | Should -Not -Match "`e\[" -Because 'nothing was drawn'
    }
}

Describe 'Get-ServingHost for scripts' {
    AfterEach { Remove-AllServingHosts }

    It 'gives Uptime, JobId and the HTTP version, and the views show them' {
        $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -WarningAction SilentlyContinue
        $info = Get-ServingHost -Id $job.Host.Id
        $info.JobId | Should -Be $job.Id
        (Get-Job -Id $info.JobId) | Should -Be $job
        $info.Uptime | Should -BeOfType [TimeSpan]
        $info.Uptime | Should -BeGreaterThan ([TimeSpan]::Zero)
        $info.HttpVersion | Should -Be ([version]'1.1')
        ($info | Format-List | Out-String -Width 200) | Should -Match 'JobId\s+:\s+\d+'
        ($info | Format-Table | Out-String -Width 200) | Should -Match 'Uptime'
        # The table fits an 80-column terminal whole: every column, no line longer, the count of running workers.
        $table = @(($info | Format-Table | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() })
        $table[0] | Should -Match '^\s*Id\s+Name\s+State\s+Uptime\s+Url\s+Gen\s+Running\s*$'
        $table[2] | Should -Match ([regex]::Escape($info.Url) + '\s+1\s+3/3\s*$')
        $table | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }

        $final = $job | Stop-ServingHost -PassThru
        $final.JobId | Should -Be $job.Id
        $final.Uptime | Should -Be ($final.StoppedAt - $final.StartedAt)
    }
}
