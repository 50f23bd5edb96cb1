using System.Globalization;

namespace Serving.Worker.Hosting;

/// <summary>The parsed command line (docs/worker-protocol.md, "Command line").</summary>
internal sealed class WorkerArguments
{
    public const string Usage =
        "usage: Serving.Worker --role api|runner|dev --config <host.json> --index <N> [--runner <name>] [--listen-fd <fd> | --listen <address> [--reuse-port true]] [--metrics-listen http://IP:PORT]";

    public WorkerRole Role { get; private init; }
    public string ConfigPath { get; private init; } = "";
    public int Index { get; private init; } = 1;
    public string? RunnerName { get; private init; }
    public int? ListenFd { get; private init; }
    public ListenAddress? Listen { get; private init; }

    /// <summary>
    /// <c>--reuse-port true</c>: bind <see cref="Listen"/> (http:// only) with SO_REUSEPORT, so several
    /// workers each hold their own listening socket on one port and the kernel spreads connections.
    /// </summary>
    public bool ReusePort { get; private init; }

    /// <summary>
    /// <c>--metrics-listen http://IP:PORT</c> (api and dev roles): a second, HTTP/1.1 endpoint answering only /metrics
    /// and the probes, bound by this worker itself — with SO_REUSEPORT where there is one, so every API worker holds
    /// the port (the supervisor keeps it reserved).
    /// </summary>
    public ListenAddress? MetricsListen { get; private init; }

    /// <summary>The worker's name as the supervisor shows it: api-1, echo-2, dev-1.</summary>
    public string WorkerName => Role switch
    {
        WorkerRole.Api => $"api-{Index}",
        WorkerRole.Runner => $"{RunnerName}-{Index}",
        _ => $"dev-{Index}",
    };

    /// <summary>Parses the command line; throws <see cref="ConfigException"/> with a one-line message.</summary>
    public static WorkerArguments Parse(IReadOnlyList<string> args)
    {
        string? role = null, config = null, index = null, runner = null, fd = null, listen = null, reusePort = null, metricsListen = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
                throw new ConfigException($"missing value for '{name}'");
            var value = args[++i];
            switch (name)
            {
                case "--role": role = value; break;
                case "--config": config = value; break;
                case "--index": index = value; break;
                case "--runner": runner = value; break;
                case "--listen-fd": fd = value; break;
                case "--listen": listen = value; break;
                case "--reuse-port": reusePort = value; break;
                case "--metrics-listen": metricsListen = value; break;
                default: throw new ConfigException($"unknown argument '{name}'");
            }
        }

        var parsedRole = role switch
        {
            "api" => WorkerRole.Api,
            "runner" => WorkerRole.Runner,
            "dev" => WorkerRole.Dev,
            null => throw new ConfigException("--role is required"),
            _ => throw new ConfigException($"unknown role '{role}' (api, runner or dev)"),
        };
        if (string.IsNullOrWhiteSpace(config))
            throw new ConfigException("--config is required");

        var parsedIndex = 1;
        if (index is not null && (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out parsedIndex) || parsedIndex < 1))
            throw new ConfigException($"--index must be a positive integer, not '{index}'");

        if (parsedRole == WorkerRole.Runner && string.IsNullOrWhiteSpace(runner))
            throw new ConfigException("--runner is required with --role runner");
        if (parsedRole != WorkerRole.Runner && runner is not null)
            throw new ConfigException("--runner is only valid with --role runner");

        if (fd is not null && listen is not null)
            throw new ConfigException("give either --listen-fd or --listen, not both");
        if (fd is null && listen is null)
            throw new ConfigException("one of --listen-fd or --listen is required");

        int? parsedFd = null;
        if (fd is not null)
        {
            if (OperatingSystem.IsWindows())
                throw new ConfigException("--listen-fd is not supported on Windows; use --listen");
            if (!int.TryParse(fd, NumberStyles.None, CultureInfo.InvariantCulture, out var f) || f < 0)
                throw new ConfigException($"--listen-fd must be a file descriptor number, not '{fd}'");
            parsedFd = f;
        }

        var parsedListen = listen is null ? null : ListenAddress.Parse(listen);
        var parsedReusePort = reusePort?.ToUpperInvariant() switch
        {
            null or "FALSE" => false,
            "TRUE" => true,
            _ => throw new ConfigException($"--reuse-port must be 'true' or 'false', not '{reusePort}'"),
        };
        if (parsedReusePort)
        {
            if (parsedListen?.Kind != ListenKind.Http)
                throw new ConfigException("--reuse-port true is only valid with --listen http://IP:PORT (not with --listen-fd, unix: or tcp:)");
            if (!Serving.Shared.ReusePort.IsAvailable)
                throw new ConfigException("--reuse-port true needs SO_REUSEPORT (Linux, macOS or FreeBSD)");
        }

        var parsedMetrics = metricsListen is null ? null : ListenAddress.Parse(metricsListen);
        if (parsedMetrics is not null && (parsedMetrics.Kind != ListenKind.Http || parsedRole == WorkerRole.Runner))
            throw new ConfigException("--metrics-listen takes http://IP:PORT, and only with --role api or dev");

        return new WorkerArguments
        {
            MetricsListen = parsedMetrics,
            Role = parsedRole,
            ConfigPath = Path.GetFullPath(config),
            Index = parsedIndex,
            RunnerName = runner,
            ListenFd = parsedFd,
            Listen = parsedListen,
            ReusePort = parsedReusePort,
        };
    }
}

internal enum ListenKind { Http, Unix, Tcp }

/// <summary>A --listen address: http://IP:PORT, unix:/path or tcp:IP:PORT.</summary>
internal sealed record ListenAddress(ListenKind Kind, string Text, System.Net.IPAddress? Ip, int Port, string? Path)
{
    public static ListenAddress Parse(string text)
    {
        if (text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0)
                throw new ConfigException($"--listen '{text}': the socket path is empty");
            return new ListenAddress(ListenKind.Unix, text, null, 0, System.IO.Path.GetFullPath(path));
        }

        if (text.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase))
        {
            var (ip, port) = ParseHostPort(text["tcp:".Length..], text);
            return new ListenAddress(ListenKind.Tcp, text, ip, port, null);
        }

        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text["http://".Length..].TrimEnd('/');
            var (ip, port) = ParseHostPort(rest, text);
            return new ListenAddress(ListenKind.Http, text, ip, port, null);
        }

        throw new ConfigException($"--listen '{text}' is not http://IP:PORT, unix:/path or tcp:IP:PORT");
    }

    private static (System.Net.IPAddress, int) ParseHostPort(string hostPort, string text)
    {
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0)
            throw new ConfigException($"--listen '{text}': expected IP:PORT");
        var host = hostPort[..colon].Trim('[', ']');
        var portText = hostPort[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new ConfigException($"--listen '{text}': bad port '{portText}'");
        System.Net.IPAddress ip;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            ip = System.Net.IPAddress.Loopback;
        else if (host == "*" || host == "+")
            ip = System.Net.IPAddress.Any;
        else if (!System.Net.IPAddress.TryParse(host, out ip!))
            throw new ConfigException($"--listen '{text}': '{host}' is not an IP address");
        return (ip, port);
    }
}
