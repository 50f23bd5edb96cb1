@{
    Synopsis    = 'Starts a multi-process serving host (API workers and runner workers) as a job, or in the foreground with -Wait.'
    Description = @'
Computes the plan (exactly as Get-ServingPlan shows it) and carries it out: binds the API port and
one socket per runner (a Unix socket in a private 0700 directory, or a loopback TCP port with a
per-host secret), starts each runner's worker processes and the API worker processes - all API
workers share one listening socket, all workers of a runner share the runner's socket - and returns
a ServingHostJob once /readyz answers 200. A progress bar shows the start.

Every error - a port in use, a bad address, an invalid manifest, a worker that cannot start or
does not become ready within -StartTimeout - is a terminating error with a stable ErrorId, and
leaves nothing running and no socket directory behind.

The job: Receive-Job gives the workers' log lines tagged with the worker (and takes them: Get-ServingLog
reads the host's latest 10,000 lines in time order without taking them); Get-Job shows one child
job per worker; Wait-Job waits until the host ends; Stop-Job or Stop-ServingHost stops it
gracefully. Workers exit within a second or two when this pwsh process dies, even by SIGKILL.
Crashed workers are respawned with exponential backoff unless the host runs inside a container
(where the orchestrator restarts it); -Respawn overrides.

With -Reload the host watches the service directory (and runner assemblies kept elsewhere) and,
after a burst of changes settles (300 ms; at most 2 s while changes keep coming), starts a new
generation of workers from the manifest as it is now - next to the serving one, on new runner
sockets and the same API port - and switches to it only once every new worker is ready; the old
generation then drains: its API workers stop accepting at once, so new connections go to the new
generation, and drain one at a time (a client connection already open to one of them is answered
there until that worker drains, its answers then carrying Connection: close). A manifest that does
not load, or a worker that exits or is not ready in time, leaves the serving generation as it was
and puts a ReloadFailed error in the job's error stream (the console, under -Wait). Reload lines go
to Receive-Job (child job 'reloader') and the console on every OS, a manifest Project's rebuild
among them (the dotnet build command, its output, and what it built in how long); Get-ServingHost
shows the Generation. Changes under obj/, .git/, editor swap and backup files never reload;
-ReloadInclude, -ReloadExclude and a .servingignore file in the service directory (gitignore
patterns, ! re-includes) choose more. A service directory that cannot be watched (on Linux, usually
an inotify limit) fails the start with ReloadFailed. Restart-ServingHost replaces the workers the
same way without reading the service again.
'@
    Parameters  = @{
        Service         = 'The service manifest (.psd1) or the directory holding it. The embedded demo service (POST /echo, POST /classify) when omitted.'
        Protocol        = 'Http (default) or Grpc.'
        Development     = 'Development mode: the API and every runner in one process.'
        Transport       = 'Runner transport: Auto (Unix sockets on POSIX, TCP on Windows and WSL), Uds or Tcp.'
        Respawn         = 'Respawn crashed workers: Auto (not inside a container), Always or Never.'
        ApiWorkers      = 'The number of API worker processes. Default: the processor count, capped by a cgroup CPU quota.'
        Port            = 'The API port. Default 3000. 0 picks a free port; the job''s Location and Get-ServingHost show the URL. Not for production gRPC, whose API workers each bind the port themselves (InvalidPlanOption): give a number, or use Use-ServingHost, which finds a free one.'
        MetricsPort     = 'A second port, HTTP/1.1, answering only /metrics and the probes (/livez, /readyz, /healthz) on the same address: for Prometheus when the API port is a gRPC host''s HTTP/2-only port, or to keep scrapes apart from API traffic. Every API worker binds it with SO_REUSEPORT (on Windows only the first API worker). Default: none; /metrics is always on the API port. A port number (1-65535), not 0.'
        HostAddress     = 'The address to listen on: an IP literal or localhost. Default 127.0.0.1, or 0.0.0.0 inside a container (so a published port reaches it), with a warning that the API listens on all interfaces; give -HostAddress 127.0.0.1 to keep it local. -Verbose says how the address was chosen.'
        SocketDirectory = 'The base directory for the host''s private socket directory. Default: the temp directory.'
        Name            = 'The host''s name, for Get-ServingHost and Stop-ServingHost. Default: the service name (demo, demo-2, ...).'
        StartTimeout    = 'Seconds to wait for the host to become ready (/readyz 200). Default 60.'
        RequestTimeout  = 'The deadline of one API-to-runner call, in seconds; a call over it answers 504. Default 60.'
        StopTimeout     = 'Seconds in-flight requests may drain when the host stops by itself (a worker gone for good with respawn off, see about_Serving) and, with -Wait, on Ctrl+C or SIGTERM, before workers are killed. Default 30.'
        MaxMessageSize  = 'The largest message, in bytes, between a client and the gRPC front door (larger ones fail with RESOURCE_EXHAUSTED) and between API and runner workers (an API''s body limit is lowered to fit; a larger runner result fails with MessageTooLarge). Default: none beyond the 32 MiB request body limit.'
        MaxConcurrentStreams = 'Concurrent HTTP/2 streams (in-flight gRPC calls) per client connection. Default 100.'
        Reload          = 'Watch the service and start a new generation of workers when it changes; the serving generation is replaced only once the new one is ready, and a broken change leaves it serving.'
        ReloadInclude   = 'With -Reload: only changes to files matching these patterns (relative to the service directory; * ? ** as in .gitignore) reload. Default: every file.'
        ReloadExclude   = 'With -Reload: changes to files matching these patterns never reload, on top of the defaults (obj/, .git/, editor swap and backup files) and .servingignore.'
        Wait            = 'Run in the foreground, writing the host''s log lines, until Ctrl+C or SIGTERM; then stop gracefully. Each line is one string, never wrapped whatever the console''s width: in -LogFormat Text "14:03:07.512 info [api-1] message" (an exception on indented lines below), in Json one object per line; the supervisor''s own lines (start, stop, respawns, reloads) are in the same format. For containers: pwsh -c ''Import-Module Serving; Start-ServingHost -Wait''.'
        LogFormat       = 'How workers write their log lines, and -Wait every line: Text (default; "info: message", an exception on indented lines below) or Json (one object per line: timestamp, level, worker, event, message, exception in full, fields). Receive-Job and Get-ServingLog give the same objects either way.'
        LogLevel        = 'The lowest level logged: Trace, Debug, Information (default), Warning, Error or Critical. Workers write nothing below it (the frameworks'' own lines only from Warning up) and the supervisor keeps none of its notes below it.'
        AccessLog       = 'One log line per API request, after its answer: method, route, status, duration, bytes in and out, the generation and the request id (the X-Request-Id response header; a client''s own X-Request-Id is adopted when it is a plain token). In -LogFormat Json these are the line''s fields (Method, Route, Status, Protocol, DurationMs, BytesIn, BytesOut, Generation, RequestId). gRPC calls are logged with the gRPC method and status name. Probes and /metrics scrapes are not logged. Default: off.'
    }
    Defaults    = @{
        Service              = @{ Text = 'The embedded demo service' }
        Protocol             = 'Http'
        Transport            = 'Auto'
        Respawn              = 'Auto'
        ApiWorkers           = @{ Text = 'The processor count, capped by a cgroup CPU quota' }
        Port                 = 3000
        MetricsPort          = @{ Text = 'None: /metrics on the API port only' }
        HostAddress          = @{ Text = '127.0.0.1, or 0.0.0.0 inside a container' }
        SocketDirectory      = @{ Text = 'The temp directory' }
        Name                 = @{ Text = 'The service name (demo, demo-2, ...)' }
        StartTimeout         = 60
        RequestTimeout       = 60
        StopTimeout          = 30
        MaxMessageSize       = @{ Text = 'None beyond the 32 MiB request body limit' }
        MaxConcurrentStreams = 100
        LogFormat            = 'Text'
        LogLevel             = 'Information'
        ReloadInclude        = @{ Text = 'Every file' }
        ReloadExclude        = @{ Text = 'None beyond obj/, .git/, editor swap and backup files and .servingignore' }
    }
    Outputs     = @{
        ServingHostJob = 'Without -Wait: the host''s job, once the host is ready (Receive-Job, Wait-Job, Stop-Job and Get-ServingHost work with it).'
        String         = 'With -Wait: the host''s log lines, one string each, until the host stops.'
    }
    Examples    = @(
        @{ Code = @'
$h = Start-ServingHost -Port 3000
Invoke-RestMethod http://127.0.0.1:3000/classify -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}'
'@; Remarks = 'Starts the demo service and classifies one flower.' }
        @{ Code = 'Start-ServingHost -Service ./svc/service.psd1 -ApiWorkers 4 -Respawn Always'; Remarks = 'Serves your own runners with four API workers, respawning crashed workers even in a container.' }
        @{ Code = "pwsh -c 'Import-Module Serving; Start-ServingHost -Service ./svc -HostAddress 0.0.0.0 -Wait'"; Remarks = 'The foreground form for a container entry point; SIGTERM drains and stops.' }
        @{ Code = 'Start-ServingHost -Service ./svc -Reload -ReloadExclude data/ -Wait'; Remarks = 'Serves ./svc and reloads it whenever its manifest, assemblies or model files change (not data/), showing each reload in the console.' }
    )
}
