using Serving.Worker.Hosting;
using Serving.Worker.Runners;

namespace Serving.Worker;

/// <summary>
/// Serving.Worker: one process of a serving host, started by the supervisor.
/// The contract with the supervisor is docs/worker-protocol.md.
/// </summary>
internal static class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Socket completions run on the thread that polled them instead of being queued to the thread
        // pool: one thread wake less per read, which on the runner hop is most of its cost
        // (docs/benchmarks.md). Read once, when the first socket is used: set before any is. Only our own
        // frame handling and Kestrel's transport run there; runner methods run on the thread pool.
        // An operator's explicit setting wins.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
            Environment.SetEnvironmentVariable(InlineCompletions, "1");

        WorkerArguments arguments;
        HostConfig config;
        try
        {
            arguments = WorkerArguments.Parse(args);
        }
        catch (ConfigException ex)
        {
            LineLoggerProvider.WriteStderr($"error: {ex.Message}");
            LineLoggerProvider.WriteStderr(WorkerArguments.Usage);
            return ExitCodes.BadConfiguration;
        }
        try
        {
            config = HostConfig.Load(arguments.ConfigPath);
            CheckRole(arguments, config);
        }
        catch (ConfigException ex)
        {
            LineLoggerProvider.WriteStderr($"error: {ex.Message}");
            return ExitCodes.BadConfiguration;
        }
        // From here on every line is in host.json's format and at its level; the lines above could not know them.
        LineLoggerProvider.Configure(config.LogFormatKind, config.MinimumLevel, arguments.WorkerName);

        int code;
        using (var lifeline = new Lifeline(arguments.WorkerName, config.Service!.Runners!.Select(r => r.Name)))
        {
            lifeline.Start();
            try
            {
                code = arguments.Role switch
                {
                    WorkerRole.Runner => await WorkerHost.RunRunnerAsync(arguments, config, lifeline).ConfigureAwait(false),
                    WorkerRole.Api => await WorkerHost.RunApiAsync(arguments, config, lifeline).ConfigureAwait(false),
                    _ => await WorkerHost.RunDevAsync(arguments, config, lifeline).ConfigureAwait(false),
                };
            }
            catch (ServiceLoadException ex)
            {
                // The exception behind it (a type's constructor that threw, a missing dependency) below the line, in full.
                LineLoggerProvider.Write(LogLevel.Error, ex.Message, ex.InnerException);
                code = ExitCodes.ServiceLoadFailed;
            }
            catch (Listening.ListenException ex)
            {
                LineLoggerProvider.Write(LogLevel.Error, ex.Message);
                code = ExitCodes.CannotListen;
            }
        }

        // A runner may have started foreground threads of its own: they must not keep the worker alive.
        Console.Out.Flush();
        Console.Error.Flush();
        Environment.Exit(code);
        return code;
    }

    /// <summary>Role-specific checks of host.json against the command line (exit 2 on failure).</summary>
    private static void CheckRole(WorkerArguments args, HostConfig config)
    {
        var endpoints = config.RunnerEndpoints!;
        switch (args.Role)
        {
            case WorkerRole.Runner:
            {
                var runner = config.FindRunner(args.RunnerName!)
                    ?? throw new ConfigException($"host.json has no runner named '{args.RunnerName}'");
                endpoints.TryGetValue(runner.Name, out var endpoint);
                var tcp = args.Listen?.Kind == ListenKind.Tcp || (args.ListenFd is not null && endpoint?.TransportKind == RunnerTransport.Tcp);
                if (tcp && string.IsNullOrEmpty(config.RunnerSecret))
                    throw new ConfigException($"runner '{runner.Name}' listens on Tcp but host.json has no 'runnerSecret'");
                if (args.Listen?.Kind == ListenKind.Http)
                    throw new ConfigException("a runner listens on unix:/path or tcp:IP:PORT, not http://");
                break;
            }
            case WorkerRole.Api:
            {
                foreach (var runner in config.Service!.Runners!)
                {
                    if (!endpoints.TryGetValue(runner.Name, out var endpoint))
                        throw new ConfigException($"host.json has no runnerEndpoints entry for runner '{runner.Name}'");
                    if (endpoint.TransportKind == RunnerTransport.Tcp && string.IsNullOrEmpty(config.RunnerSecret))
                        throw new ConfigException($"runner '{runner.Name}' uses Tcp but host.json has no 'runnerSecret'");
                }
                break;
            }
        }
    }
}
