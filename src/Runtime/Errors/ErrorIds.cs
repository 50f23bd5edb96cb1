namespace Serving.Runtime.Errors;

/// <summary>
/// The stable ErrorIds of every error the module raises. They are API: scripts match on
/// <c>$_.FullyQualifiedErrorId</c>, and tests pin each one. Never rename; only add.
/// </summary>
public static class ErrorIds
{
    /// <summary>gRPC in production mode on Windows, which lacks SO_REUSEPORT.</summary>
    public const string GrpcRequiresReusePort = nameof(GrpcRequiresReusePort);
    /// <summary>No Unix socket path fits in 103 characters.</summary>
    public const string UnixSocketPathTooLong = nameof(UnixSocketPathTooLong);
    /// <summary>-Transport Uds where the platform cannot use Unix sockets (Windows).</summary>
    public const string UnixSocketsUnsupported = nameof(UnixSocketsUnsupported);
    /// <summary>-HostAddress is not an IP literal or 'localhost'.</summary>
    public const string InvalidHostAddress = nameof(InvalidHostAddress);
    /// <summary>The OS is none of Linux, Windows, macOS, FreeBSD.</summary>
    public const string UnsupportedPlatform = nameof(UnsupportedPlatform);
    /// <summary>-Assume names a key that is not a platform fact, or a value of the wrong shape.</summary>
    public const string InvalidAssumption = nameof(InvalidAssumption);
    /// <summary>SERVING_CONTAINERIZED is set to something other than true or false.</summary>
    public const string InvalidContainerOverride = nameof(InvalidContainerOverride);
    /// <summary>A plan option is out of range or contradicts another.</summary>
    public const string InvalidPlanOption = nameof(InvalidPlanOption);
    /// <summary>The service manifest cannot be read or is invalid.</summary>
    public const string InvalidServiceManifest = nameof(InvalidServiceManifest);
    /// <summary>The service manifest names an assembly that does not exist or cannot be read.</summary>
    public const string ServiceAssemblyNotFound = nameof(ServiceAssemblyNotFound);
    /// <summary>The manifest's Project did not build (the compiler's first errors are in the message), or dotnet could not be run.</summary>
    public const string ServiceBuildFailed = nameof(ServiceBuildFailed);
    /// <summary>New-ServingService: the directory already holds the service's files or another manifest.</summary>
    public const string ServiceExists = nameof(ServiceExists);
    /// <summary>The service manifest names a runner type or method the assemblies do not define.</summary>
    public const string RunnerTypeNotFound = nameof(RunnerTypeNotFound);
    /// <summary>Two APIs claim the same route.</summary>
    public const string DuplicateRoute = nameof(DuplicateRoute);
    /// <summary>The HTTP port (or a runner port) is already in use.</summary>
    public const string PortInUse = nameof(PortInUse);
    /// <summary>A listening socket could not be created for another reason.</summary>
    public const string BindFailed = nameof(BindFailed);
    /// <summary>The worker executable is missing from the module.</summary>
    public const string WorkerNotFound = nameof(WorkerNotFound);
    /// <summary>The host did not become ready within -StartTimeout.</summary>
    public const string HostStartTimeout = nameof(HostStartTimeout);
    /// <summary>A worker exited while the host was starting.</summary>
    public const string WorkerStartFailed = nameof(WorkerStartFailed);
    /// <summary>A worker crashed and was given up on, or exited with respawn off.</summary>
    public const string WorkerFailed = nameof(WorkerFailed);
    /// <summary>A running host failed.</summary>
    public const string HostFailed = nameof(HostFailed);
    /// <summary>A host with that name is already running in this session.</summary>
    public const string HostNameInUse = nameof(HostNameInUse);
    /// <summary>No host matches -Name or -Id.</summary>
    public const string HostNotFound = nameof(HostNotFound);
    /// <summary>A worker restart was asked of a worker that is not running, or of a host that is stopping.</summary>
    public const string WorkerNotRestartable = nameof(WorkerNotRestartable);
    /// <summary>A scale was asked that the host cannot take (development mode, an unknown runner, a count out of range), or a new worker failed to start.</summary>
    public const string HostNotScalable = nameof(HostNotScalable);
    /// <summary>A reload's new generation could not be planned or started; the serving generation goes on.</summary>
    public const string ReloadFailed = nameof(ReloadFailed);
    /// <summary>Watch-ServingHost was run where it cannot draw a live screen: its output or input is redirected, or the host has no console.</summary>
    public const string WatchRequiresTerminal = nameof(WatchRequiresTerminal);
    /// <summary>
    /// Invoke-ServingApi could not call the API (the host unreachable, no answer in time, an answer that is not the
    /// protocol's), or the host answered an error without an errorId of its own. An error the host reports carries the
    /// host's errorId instead (InvalidJson, NotFound, RunnerFailed, ...: docs/errors.md).
    /// </summary>
    public const string ApiCallFailed = nameof(ApiCallFailed);
    /// <summary>A cmdlet given no host (Stop-ServingHost, Invoke-ServingApi) found several live hosts in the session and cannot choose.</summary>
    public const string HostAmbiguous = nameof(HostAmbiguous);
}
