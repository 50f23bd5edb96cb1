@{
    Synopsis    = 'Starts a serving host on a free port, runs a script block with it, and always stops and removes the host.'
    Description = @'
Starts a host of the service as Start-ServingHost does (as a job, on a free port: port 0 for HTTP;
for gRPC, a port the OS just gave out), runs the script block with the host's HostInfo as its first
argument (param($h): $h.Url, $h.Id, $h.Protocol, ...; pipe it to Invoke-ServingApi), then stops the
host, drains it for up to -StopTimeout seconds, and removes its job. Made for tests: in Pester,
Use-ServingHost inside an It, or Start-ServingHost in BeforeAll with Stop-ServingHost in AfterAll.
Each object the block outputs goes to the next command in the pipeline as it is written, while the
host is still up.

The host is stopped and removed whatever happens: when the block ends, when it throws (the error
propagates to the caller unchanged, after the host is gone), and on Ctrl+C (stopped at once). When the
start itself fails (a port in use, an invalid service, a worker that is not ready in time) the caller
sees one terminating error, the start's own (PortInUse, InvalidServiceManifest, HostStartTimeout, ...),
and nothing is left: no worker process, no socket directory, no job, no entry in Get-ServingHost. The
block does not run.

The block runs on the pipeline thread in a child scope of the caller's, as & { } does: it reads the
caller's variables, and what it sets is gone when it ends (return what you need, or use $script:).
Its output streams to the next command as it is written; its errors, warnings and Write-Host lines
appear as they happen.
'@
    Parameters  = @{
        ScriptBlock  = 'The block to run with the host; it receives the host''s HostInfo as its first argument. Required; position 0 (the first positional argument).'
        Service      = 'The service manifest (.psd1) or the directory holding it. Default: the embedded demo service (POST /echo, POST /classify). No wildcards.'
        Protocol     = 'Http or Grpc. Default Http.'
        Development  = 'Development mode: the API and every runner in one process. Default: off (production mode).'
        ApiWorkers   = 'The number of API worker processes. Default 1: a test host needs no more.'
        Port         = 'The API port. Default: a free one (port 0 for HTTP; for gRPC a port the OS just gave out). A port in use fails the start with PortInUse.'
        Name         = 'The host''s name. Default: the service name (demo, demo-2, ...).'
        StartTimeout = 'Seconds to wait for the host to become ready. Default 60.'
        StopTimeout  = 'Seconds in-flight requests may drain when the block ends, before workers are killed. Default 30.'
    }
    Defaults    = @{
        Service      = @{ Text = 'the embedded demo service' }
        Protocol     = 'Http'
        ApiWorkers   = 1
        Port         = @{ Text = 'a free port' }
        Name         = @{ Text = 'the service''s name (then name-2, ...)' }
        StartTimeout = 60
        StopTimeout  = 30
    }
    Outputs     = @{
        PSObject = 'Whatever the script block outputs.'
    }
    Examples    = @(
        @{ Code = @'
Use-ServingHost -Service ./svc {
    param($h)
    Invoke-ServingApi -InputObject $h -Route /classify -Body @{ features = 5.1, 3.5, 1.4, 0.2 }
}
'@; Remarks = 'Starts ./svc on a free port, classifies one flower, and stops the host.' }
        @{ Code = @'
Describe 'my service' {
    It 'classifies a setosa' {
        Use-ServingHost -Service $PSScriptRoot/svc {
            param($h)
            ($h | Invoke-ServingApi -Route /classify -Body @{ features = 5.1, 3.5, 1.4, 0.2 }).label | Should -Be 'setosa'
        }
    }
    It 'answers a bad input with InvalidInput' {
        Use-ServingHost -Service $PSScriptRoot/svc {
            param($h)
            { $h | Invoke-ServingApi -Route /classify -Body @{ features = 1 } -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidInput*'
        }
    }
}
'@; Remarks = 'A Pester suite: each It starts its own host and leaves nothing behind, even when an assertion fails.' }
        @{ Code = @'
Describe 'my service over gRPC' {
    BeforeAll { $h = Start-ServingHost -Service $PSScriptRoot/svc -Protocol Grpc -Port 50051 -Name grpc-test }
    AfterAll { Stop-ServingHost; if ($h) { Remove-Job $h } }
    It 'classifies' { ($h | Invoke-ServingApi /classify @{ features = 5.1, 3.5, 1.4, 0.2 }).label | Should -Be 'setosa' }
}
'@; Remarks = 'One host for the whole file. Stop-ServingHost with no argument stops the session''s only running host; when the start in BeforeAll failed it finds none and does nothing, so the file fails once, with the start''s error.' }
    )
}
