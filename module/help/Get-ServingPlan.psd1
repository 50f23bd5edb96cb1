@{
    Synopsis    = 'Computes what Start-ServingHost would do, without starting or changing anything.'
    Description = @'
Applies the platform rules and your options to a service (the embedded demo service by default) and
returns the plan: protocol, mode, API worker count, address and port, whether workers respawn, the
runner transport, the private socket directory and, per runner, its endpoint and whether it takes
batches (Batchable, read from its assembly or ONNX model). Raises the same errors
Start-ServingHost would raise (GrpcRequiresReusePort, UnixSocketPathTooLong, UnixSocketsUnsupported,
InvalidHostAddress, UnsupportedPlatform, InvalidServiceManifest ...) and writes the same warnings.
With -Verbose it says how the listen address and respawn were chosen (the plan's Explanations),
naming the container evidence they follow.
'@
    Parameters  = @{
        Service         = 'The service manifest (.psd1) or the directory holding it. The embedded demo service (runners echo and classifier) when omitted.'
        Protocol        = 'Http (default) or Grpc. Production gRPC is refused on Windows (GrpcRequiresReusePort) and warned about on macOS and FreeBSD.'
        Development     = 'Development mode: the API and every runner in one process. Allows gRPC on every OS.'
        Transport       = 'Runner transport: Auto (Unix sockets on POSIX, TCP on Windows and WSL), Uds or Tcp.'
        Respawn         = 'Respawn crashed workers: Auto (not inside a container), Always or Never.'
        ApiWorkers      = 'The number of API worker processes. Default: the processor count, capped by a cgroup CPU quota.'
        Port            = 'The API port. Default 3000. 0 picks a free port (HTTP only).'
        MetricsPort     = 'A second port, HTTP/1.1, answering only /metrics and the probes (/livez, /readyz, /healthz) on the same address: for Prometheus when the API port is a gRPC host''s HTTP/2-only port, or to keep scrapes apart from API traffic. Every API worker binds it with SO_REUSEPORT (on Windows only the first API worker). Default: none; /metrics is always on the API port.'
        HostAddress     = 'The address to listen on: an IP literal or localhost. Default 127.0.0.1, or 0.0.0.0 inside a container (so a published port reaches it), with a warning that the API listens on all interfaces; give -HostAddress 127.0.0.1 to keep it local. -Verbose says how the address was chosen.'
        SocketDirectory = 'The base directory for the host''s private socket directory. Default: the temp directory (shortened to /tmp when socket paths would exceed 103 characters).'
        Platform        = 'Plan for this platform (from Get-ServingPlatform, e.g. with -Assume) instead of this machine. Accepts pipeline input.'
        Assume          = 'Plan for assumed platform facts; the same keys as Get-ServingPlatform -Assume.'
    }
    Defaults    = @{
        Service         = @{ Text = 'The embedded demo service' }
        Protocol        = 'Http'
        Transport       = 'Auto'
        Respawn         = 'Auto'
        ApiWorkers      = @{ Text = 'The processor count, capped by a cgroup CPU quota' }
        Port            = 3000
        MetricsPort     = @{ Text = 'None: /metrics on the API port only' }
        HostAddress     = @{ Text = '127.0.0.1, or 0.0.0.0 inside a container' }
        SocketDirectory = @{ Text = 'The temp directory' }
    }
    Inputs      = @{
        PlatformInfo = 'A platform from Get-ServingPlatform (for example with -Assume), bound to -Platform: the plan is made for it instead of this machine.'
    }
    Outputs     = @{
        HostPlan = 'The plan: protocol, mode, API worker count, address and port, respawn, runner transport, socket directory, one endpoint per runner (and whether it is Batchable), and the Explanations of the choices.'
    }
    Examples    = @(
        @{ Code = 'Get-ServingPlan | Format-List'; Remarks = 'The plan for the demo service on this machine.' }
        @{ Code = "Get-ServingPlan -Assume @{ OS = 'Windows' } -Protocol Grpc"; Remarks = 'Fails with GrpcRequiresReusePort: add -Development to serve gRPC from one process on Windows.' }
        @{ Code = "Get-ServingPlatform -Assume @{ OS = 'MacOS' } | Get-ServingPlan -Protocol Grpc"; Remarks = 'Plans gRPC on macOS and warns that SO_REUSEPORT does not spread connections there.' }
        @{ Code = "Get-ServingPlan -Assume @{ OS = 'Linux'; Files = @{ '/.dockerenv' = '' } } -Verbose"; Remarks = 'Inside a container: listens on 0.0.0.0 with a warning, does not respawn workers, and -Verbose says why.' }
    )
}
