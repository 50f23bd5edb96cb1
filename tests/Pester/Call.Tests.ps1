# Testing and calling a service from PowerShell: Invoke-ServingApi over HTTP and over hand-framed gRPC (h2c, no
# gRPC assembly in pwsh), Use-ServingHost (the host always stopped and removed), one id for a host and its job,
# and Stop-, Restart- and Set-ServingHost with no argument.

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1

    $script:Setosa = @{ features = 5.1, 3.5, 1.4, 0.2 }
}

Describe 'Calling and testing a service' {
    AfterEach {
        # Every test cleans up its hosts and jobs, even when it failed.
        Remove-AllServingHosts
    }

    AfterAll {
        Remove-AllServingHosts
    }

    Describe 'Invoke-ServingApi over HTTP' {
        It 'returns JSON as objects, bytes as a byte array, and -Raw the JSON text' {
            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name call-http

            $one = Invoke-ServingApi -Name call-http -Route /classify -Body $Setosa
            $one.label | Should -Be 'setosa'
            @($one.probabilities).Count | Should -Be 3

            # A JSON array result is written element by element, as ConvertFrom-Json writes it.
            $many = @($job | Invoke-ServingApi -Route classify -Body @{ instances = @(, (5.1, 3.5, 1.4, 0.2)) + @(, (6.7, 3.0, 5.2, 2.3)) })
            $many.label | Should -Be @('setosa', 'virginica')

            # A string is sent as it is (a JSON text reaches the JSON API unchanged).
            (Invoke-ServingApi -Id $job.Id /classify '{"features":[5.1,3.5,1.4,0.2]}').label | Should -Be 'setosa'
            $raw = Invoke-ServingApi -Url (Get-ServingHost call-http).Url /classify $Setosa -Raw
            $raw | Should -BeOfType [string]
            ($raw | ConvertFrom-Json).label | Should -Be 'setosa'

            # /echo takes and gives bytes: one byte array back, not its bytes one by one.
            $echo = Invoke-ServingApi /echo ([byte[]](1, 2, 3))
            , $echo | Should -BeOfType [byte[]]
            $echo | Should -Be @(1, 2, 3)
        }

        It 'writes a problem answer as an error record with the host''s errorId, detail and request id' {
            $null = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name call-problem

            $errors = Get-ErrorRecords { Invoke-ServingApi /classify @{ features = 1 } }
            $errors.Count | Should -Be 1
            $e = $errors[0]
            $e.FullyQualifiedErrorId | Should -Be 'InvalidInput,Serving.Cmdlets.InvokeServingApiCommand'
            $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $e.TargetObject.Status | Should -Be 400
            $e.TargetObject.RequestId | Should -Not -BeNullOrEmpty
            "$e" | Should -BeLike "/classify: invalid input in `$.features*(InvalidInput, HTTP 400, request id $($e.TargetObject.RequestId))"

            (Get-ErrorRecords { Invoke-ServingApi /classify '{not json' })[0].FullyQualifiedErrorId | Should -BeLike 'InvalidJson,*'
            $notFound = (Get-ErrorRecords { Invoke-ServingApi /nope '{}' })[0]
            $notFound.FullyQualifiedErrorId | Should -BeLike 'NotFound,*'
            $notFound.CategoryInfo.Category | Should -Be 'ObjectNotFound'

            # Non-terminating: -ErrorAction Stop makes it a terminating error scripts catch.
            { Invoke-ServingApi /classify @{ features = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidInput,*'
        }

        It 'a host that cannot be reached is ApiCallFailed' {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
            $e = (Get-ErrorRecords { Invoke-ServingApi -Url "http://127.0.0.1:$port" /classify $Setosa -TimeoutSec 5 })[0]
            $e.FullyQualifiedErrorId | Should -BeLike 'ApiCallFailed,*'
            "$e" | Should -BeLike "*127.0.0.1:$port*"
        }

        It 'with no host named: the only running host; several are HostAmbiguous; none is HostNotFound' {
            Get-ErrorId { Invoke-ServingApi /classify $Setosa } | Should -BeLike 'HostNotFound,*'
            $null = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name call-one
            (Invoke-ServingApi /classify $Setosa).label | Should -Be 'setosa'
            $null = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name call-two
            Get-ErrorId { Invoke-ServingApi /classify $Setosa } | Should -BeLike 'HostAmbiguous,*'
            (Invoke-ServingApi -Name call-two /classify $Setosa).label | Should -Be 'setosa'
        }
    }

    Describe 'Invoke-ServingApi over gRPC' {
        It 'calls serving.v1.Serving/Call over h2c and loads no gRPC assembly' {
            Use-ServingHost -Protocol Grpc -Name call-grpc {
                param($h)
                $h.Protocol | Should -Be 'Grpc'
                ($h | Invoke-ServingApi /classify $Setosa).label | Should -Be 'setosa'
                # The same by name and by -Url with -Protocol.
                (Invoke-ServingApi -Name call-grpc classify '{"features":[6.7,3.0,5.2,2.3]}').label | Should -Be 'virginica'
                (Invoke-ServingApi -Url $h.Url -Protocol Grpc /classify $Setosa -Raw) | Should -BeLike '{"label":"setosa"*'
                $bytes = Invoke-ServingApi -Url $h.Url -Protocol Grpc /echo ([byte[]](7, 8))
                , $bytes | Should -BeOfType [byte[]]
                $bytes | Should -Be @(7, 8)
            }
            [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name |
                Where-Object { $_ -match '^(Microsoft\.AspNetCore|Grpc\.|Google\.Protobuf)' } | Should -BeNullOrEmpty
        }

        It 'writes INVALID_ARGUMENT as an error record with the x-serving-error-id and request id trailers' {
            Use-ServingHost -Protocol Grpc {
                param($h)
                $e = (Get-ErrorRecords { $h | Invoke-ServingApi /classify @{ features = 1 } })[0]
                $e.FullyQualifiedErrorId | Should -Be 'InvalidInput,Serving.Cmdlets.InvokeServingApiCommand'
                $e.TargetObject.GrpcStatus | Should -Be 'INVALID_ARGUMENT'
                $e.TargetObject.RequestId | Should -Not -BeNullOrEmpty
                "$e" | Should -BeLike "*(InvalidInput, INVALID_ARGUMENT, request id $($e.TargetObject.RequestId))"

                $json = (Get-ErrorRecords { $h | Invoke-ServingApi /classify '{not json' })[0]
                $json.FullyQualifiedErrorId | Should -BeLike 'InvalidJson,*'
                $json.TargetObject.GrpcStatus | Should -Be 'INVALID_ARGUMENT'
                (Get-ErrorRecords { $h | Invoke-ServingApi /nope '{}' })[0].FullyQualifiedErrorId | Should -BeLike 'NotFound,*'
            }
        }
    }

    Describe 'Use-ServingHost' {
        It 'runs the block with the running host, writes its output, and leaves nothing behind' {
            $seen = @{}
            $out = Use-ServingHost -Name use-ok {
                param($h)
                $seen.Host = $h
                (Get-ServingHost -Id $h.Id).State
                ($h | Invoke-ServingApi /classify $Setosa).label
            }
            $out | Should -Be @('Running', 'setosa')
            # Each object reaches the next command as the block writes it, not when the block ends.
            $downstream = [System.Collections.Generic.List[string]]::new()
            Use-ServingHost -Name use-stream { param($h) 'first'; "seen $($downstream.Count)" } | ForEach-Object { $downstream.Add($_) }
            $downstream | Should -Be @('first', 'seen 1')
            # The caller's variables are the block's, none shadowed by the call.
            $block = 'mine'; $value = 'also mine'
            Use-ServingHost -Name use-scope { param($h) "$block, $value" } | Should -Be 'mine, also mine'
            $seen.Host.Url | Should -Match '^http://127\.0\.0\.1:\d+$'
            $seen.Host.Name | Should -Be 'use-ok'
            $seen.Host.JobId | Should -Be $seen.Host.Id
            Assert-NothingLeft
            $port = ([uri]$seen.Host.Url).Port
            @(Get-ListeningTcp | Where-Object Port -EQ $port) | Should -BeNullOrEmpty -Because 'the port is free again'
        }

        It 'stops and removes the host when the block throws, and the error propagates unchanged' {
            $e = $null
            try { Use-ServingHost { param($h) throw [InvalidOperationException]::new('boom in the block') } } catch { $e = $_ }
            $e | Should -Not -BeNullOrEmpty
            $e.Exception.Message | Should -Be 'boom in the block'
            Assert-NothingLeft

            # A failed Pester assertion inside the block fails the test with its own message.
            { Use-ServingHost { param($h) 1 | Should -Be 2 } } | Should -Throw '*Expected 2, but got 1*'
            Assert-NothingLeft
        }

        It 'a start that fails is one error, the start''s own, and leaves nothing: bad service' {
            $Error.Clear()
            $ran = @{}
            $e = $null
            try { Use-ServingHost -Service (Join-Path $TestDrive 'missing.psd1') { param($h) $ran.Block = $true } } catch { $e = $_ }
            $e.FullyQualifiedErrorId | Should -Be 'InvalidServiceManifest,Serving.Cmdlets.UseServingHostCommand'
            $Error.Count | Should -Be 1 -Because 'no second error follows the start''s'
            $ran.Count | Should -Be 0 -Because 'the block does not run'
            Assert-NothingLeft
        }

        It 'a start that fails is one error, the start''s own, and leaves nothing: port in use' {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            try {
                $Error.Clear()
                $e = $null
                try { Use-ServingHost -Port $listener.LocalEndpoint.Port { param($h) 'never' } } catch { $e = $_ }
                $e.FullyQualifiedErrorId | Should -Be 'PortInUse,Serving.Cmdlets.UseServingHostCommand'
                $Error.Count | Should -Be 1
                Assert-NothingLeft
            }
            finally { $listener.Stop() }
        }
    }

    Describe 'One id for a host and its job' {
        It 'Get-ServingHost''s Id is the job''s: Receive-Job -Id, Stop-Job -Id and Wait-Job -Id work with it' {
            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name one-id
            $info = Get-ServingHost one-id
            $info.Id | Should -Be $job.Id
            $info.JobId | Should -Be $job.Id
            (Get-Job -Id $info.Id) | Should -Be $job
            (Get-ServingHost -Id $job.Id).Name | Should -Be 'one-id'

            Wait-Until { @(Receive-Job -Id $info.Id -Keep).Count -gt 0 } -What 'the job to have log lines'
            @(Receive-Job -Id $info.Id) | Should -Not -BeNullOrEmpty

            Stop-Job -Id $info.Id
            $done = Wait-Job -Id $info.Id -Timeout 30
            $done | Should -Be $job
            $job.State | Should -Be 'Stopped'
            (Get-ServingHost -Id $info.Id).State | Should -Be 'Stopped'
            Wait-Until { @(Get-WorkerPids).Count -eq 0 } -What 'the workers to exit'
        }
    }

    Describe 'Stop-ServingHost with no argument' {
        It 'stops the session''s only running host' {
            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name only-one
            $final = Stop-ServingHost -Timeout 5 -PassThru
            $final.Name | Should -Be 'only-one'
            $final.State | Should -Be 'Stopped'
            $job.State | Should -Be 'Stopped'
            # None left: nothing to do, and no error (a cleanup after a failed start stays quiet).
            Stop-ServingHost -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'with several running raises HostAmbiguous naming each (name, id, url) and stops none' {
            $a = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name pick-a
            $b = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name pick-b
            $e = $null
            try { Stop-ServingHost } catch { $e = $_ }
            $e.FullyQualifiedErrorId | Should -Be 'HostAmbiguous,Serving.Cmdlets.StopServingHostCommand'
            foreach ($h in Get-ServingHost pick-a, pick-b) {
                "$e" | Should -BeLike "*'$($h.Name)' (Id $($h.Id), $($h.Url))*"
                $h.State | Should -Be 'Running'
            }
            "$e" | Should -BeLike '*-Name*-Id*Get-ServingHost*'
            # Naming or piping still works as before.
            (Get-ServingHost pick-b | Stop-ServingHost -Timeout 5 -PassThru).Name | Should -Be 'pick-b'
            $b.State | Should -Be 'Stopped'
            $a.State | Should -Be 'Running'
        }

        It 'Restart-ServingHost and Set-ServingHost act on the only running host too: none is HostNotFound, several HostAmbiguous' {
            Get-ErrorId { Restart-ServingHost } | Should -Be 'HostNotFound,Serving.Cmdlets.RestartServingHostCommand'
            Get-ErrorId { Set-ServingHost -ApiWorkers 2 } | Should -Be 'HostNotFound,Serving.Cmdlets.SetServingHostCommand'

            $job = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name only-bare
            $restarted = Restart-ServingHost -Runner echo -Timeout 5 -PassThru
            $restarted.Name | Should -Be 'only-bare'
            ($restarted.Workers | Where-Object Name -EQ 'echo-1').Restarts | Should -Be 1
            $scaled = Set-ServingHost -ApiWorkers 2 -Timeout 5 -PassThru
            @($scaled.Workers | Where-Object Role -EQ 'Api').Count | Should -Be 2
            (Invoke-ServingApi /classify $Setosa).label | Should -Be 'setosa'

            $null = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Name only-other
            Get-ErrorId { Restart-ServingHost } | Should -Be 'HostAmbiguous,Serving.Cmdlets.RestartServingHostCommand'
            Get-ErrorId { Set-ServingHost -ApiWorkers 1 } | Should -Be 'HostAmbiguous,Serving.Cmdlets.SetServingHostCommand'
            @((Get-ServingHost only-bare).Workers | Where-Object Role -EQ 'Api').Count | Should -Be 2
        }
    }
}
