using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Serving.Runtime.Planning;

/// <summary>
/// PlatformInfo + options + service → <see cref="HostPlan"/>. Pure: it reads nothing from the machine
/// and changes nothing, so Get-ServingPlan can answer for any assumed platform.
/// </summary>
public static class HostPlanner
{
    public const string TcpRunnerHost = "127.0.0.1";

    public static HostPlan Plan(PlatformInfo platform, ServiceDefinition service, PlanOptions options)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);

        if (!platform.IsSupported)
            throw new ServingException(ErrorIds.UnsupportedPlatform, ServingErrorKind.NotImplemented,
                platform.UnsupportedReason, platform.OS);

        var warnings = new List<string>();
        var mode = options.Development ? ServingMode.Development : ServingMode.Production;

        // The seed's gRPC rules apply to production only: development mode is one process, no SO_REUSEPORT.
        if (options.Protocol == ServingProtocol.Grpc && mode == ServingMode.Production)
        {
            if (platform.GrpcProduction == GrpcSupport.Denied)
                throw new ServingException(ErrorIds.GrpcRequiresReusePort, ServingErrorKind.NotImplemented,
                    "gRPC is not supported on Windows without -Development: production gRPC API workers share one port " +
                    "through the SO_REUSEPORT socket option, which Windows does not have. Add -Development to serve gRPC " +
                    "from one process, or use -Protocol Http.",
                    options.Protocol);
            if (platform.GrpcProduction == GrpcSupport.Warning)
                warnings.Add(PlatformRules.GrpcWarning(platform.OS));
        }

        var (hostAddress, url, port) = Address(platform, options);
        var addressGiven = !string.IsNullOrWhiteSpace(options.HostAddress);
        // A default that opens the API to the network is worth a warning; an address the user chose is not.
        if (!addressGiven && platform.IsContainer)
            warnings.Add(PlanExplanations.AllInterfacesWarning(hostAddress, platform));
        var apiWorkers = ApiWorkers(platform, options, mode);
        var respawn = options.Respawn switch
        {
            RespawnChoice.Always => true,
            RespawnChoice.Never => false,
            _ => platform.RespawnWorkers,
        };
        var explanations = new[]
        {
            PlanExplanations.ListenAddress(hostAddress, addressGiven, platform),
            PlanExplanations.Respawn(options.Respawn, respawn, platform),
        };

        var hostId = options.HostId ?? NewHostId();
        var transport = Transport(platform, options, mode, warnings);
        var runners = new RunnerPlan[service.Runners.Length];
        var socketDirectory = "";
        if (transport == RunnerTransport.Uds)
        {
            var names = new string[service.Runners.Length];
            for (var i = 0; i < names.Length; i++) names[i] = service.Runners[i].Name;
            var (dir, paths) = SocketPathPlanner.Plan(platform, options.SocketDirectory, names, hostId);
            socketDirectory = dir;
            for (var i = 0; i < runners.Length; i++)
                runners[i] = Runner(service.Runners[i], transport, paths[i]);
        }
        else
        {
            for (var i = 0; i < runners.Length; i++)
                runners[i] = Runner(service.Runners[i], transport,
                    transport == RunnerTransport.Tcp ? TcpRunnerHost + ":0" : "in-process");
        }

        return new HostPlan
        {
            HostId = hostId,
            Service = service.Name,
            Protocol = options.Protocol,
            Mode = mode,
            ApiWorkers = apiWorkers,
            Port = port,
            HostAddress = hostAddress,
            Url = url,
            MetricsPort = options.MetricsPort,
            MetricsUrl = MetricsUrl(options, url),
            Respawn = respawn,
            Transport = transport,
            SocketDirectory = socketDirectory,
            Runners = runners,
            Warnings = warnings.ToArray(),
            Explanations = explanations,
            Platform = platform,
            Definition = service,
        };
    }

    /// <summary>Eight random hex digits: short enough for socket paths, unique enough for one machine.</summary>
    public static string NewHostId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();

    private static RunnerPlan Runner(RunnerDefinition runner, RunnerTransport transport, string endpoint) => new()
    {
        Name = runner.Name,
        Workers = transport == RunnerTransport.InProcess ? 0 : runner.Workers,
        Transport = transport,
        Endpoint = endpoint,
        Batchable = runner.Batchable,
    };

    private static RunnerTransport Transport(PlatformInfo platform, PlanOptions options, ServingMode mode, List<string> warnings)
    {
        if (mode == ServingMode.Development)
        {
            if (options.Transport != TransportChoice.Auto)
                warnings.Add($"-Transport {options.Transport} has no effect with -Development: runners run inside the API process.");
            return RunnerTransport.InProcess;
        }
        switch (options.Transport)
        {
            case TransportChoice.Tcp:
                return RunnerTransport.Tcp;
            case TransportChoice.Uds:
                if (!platform.SupportsUnixSockets)
                    throw new ServingException(ErrorIds.UnixSocketsUnsupported, ServingErrorKind.InvalidArgument,
                        $"-Transport Uds is not available on {platform.OS}: runner workers there are reached over TCP on {TcpRunnerHost}. " +
                        "Use -Transport Tcp or Auto.",
                        options.Transport);
                return RunnerTransport.Uds;
            default:
                return platform.RunnerTransport;
        }
    }

    private static int ApiWorkers(PlatformInfo platform, PlanOptions options, ServingMode mode)
    {
        if (mode == ServingMode.Development)
        {
            if (options.ApiWorkers is > 1)
                throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                    $"-ApiWorkers {options.ApiWorkers} cannot be used with -Development, which runs exactly one process. " +
                    "Remove -ApiWorkers or -Development.",
                    options.ApiWorkers);
            return 1;
        }
        if (options.ApiWorkers is int n)
        {
            if (n < 1)
                throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                    $"-ApiWorkers must be 1 or more; got {n}.", n);
            return n;
        }
        return platform.ProcessorCount;
    }

    private static (string HostAddress, string Url, int Port) Address(PlatformInfo platform, PlanOptions options)
    {
        var port = options.Port ?? PlanOptions.DefaultPort;
        if (port < 0 || port > 65535)
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                $"-Port must be between 0 and 65535; got {port}.", port);
        if (port == 0 && options.Protocol == ServingProtocol.Grpc && !options.Development)
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                "-Port 0 (any free port) is not available for production gRPC, whose workers each bind the port themselves. Give a port number.",
                port);

        var address = string.IsNullOrWhiteSpace(options.HostAddress)
            ? (platform.IsContainer ? "0.0.0.0" : "127.0.0.1")
            : options.HostAddress!.Trim();
        var ip = ParseHostAddress(address);
        // The URL a local client uses: the wildcard addresses are not addresses to call.
        var reachable = ip.Equals(IPAddress.Any) ? IPAddress.Loopback
            : ip.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : ip;
        var hostPart = reachable.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? "[" + reachable + "]" : reachable.ToString();
        var scheme = "http";
        return (address, string.Create(CultureInfo.InvariantCulture, $"{scheme}://{hostPart}:{port}"), port);
    }

    /// <summary>
    /// The URL Prometheus scrapes: the metrics port's, else the API's for HTTP; none for gRPC without a metrics
    /// port. Checks the metrics port: a port number, and not the API's.
    /// </summary>
    private static string MetricsUrl(PlanOptions options, string url)
    {
        if (options.MetricsPort is not { } metricsPort)
            return options.Protocol == ServingProtocol.Http ? url + "/metrics" : "";
        if (metricsPort is < 1 or > 65535)
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                $"-MetricsPort must be between 1 and 65535; got {metricsPort}.", metricsPort);
        if (metricsPort == (options.Port ?? PlanOptions.DefaultPort))
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                $"-MetricsPort {metricsPort} is the API port. Give another port, or leave -MetricsPort out: /metrics is on the API port too.",
                metricsPort);
        return new UriBuilder(url) { Port = metricsPort, Path = "/metrics" }.Uri.ToString();
    }

    /// <summary>An IP literal, or 'localhost' (= 127.0.0.1); anything else is an error naming it.</summary>
    public static IPAddress ParseHostAddress(string address)
    {
        if (string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        if (IPAddress.TryParse(address, out var ip) && LooksLikeLiteral(address)) return ip;
        throw new ServingException(ErrorIds.InvalidHostAddress, ServingErrorKind.InvalidArgument,
            $"-HostAddress '{address}' is not an IP address. Give an IPv4 or IPv6 literal (127.0.0.1, 0.0.0.0, ::1, ::) or 'localhost'; " +
            "host names are not resolved, so the address you bind is the address you asked for.",
            address);
    }

    // IPAddress.TryParse accepts "1" or "127.1" (inet_aton forms); a user who wrote those almost
    // certainly meant something else, so only dotted quads and IPv6 literals count.
    private static bool LooksLikeLiteral(string s) =>
        s.Contains(':') || (s.Split('.').Length == 4 && !s.EndsWith('.'));
}
