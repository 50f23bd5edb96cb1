using System.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Serving.Abstractions;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.GrpcFrontDoor;
using Serving.Worker.Metrics;
using Serving.Worker.Runners;
using Serving.Worker.Transport;

namespace Serving.Worker.Hosting;

/// <summary>Builds the web host of each role and hands it to <see cref="WorkerServing"/> to run.</summary>
internal static class WorkerHost
{
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    // Kestrel negotiates HTTP/2 only through TLS ALPN; on the cleartext API endpoint an
    // Http1AndHttp2 setting would just log a warning at every start and serve HTTP/1.1 anyway.
    private const HttpProtocols ApiProtocols = HttpProtocols.Http1;

    public static async Task<int> RunRunnerAsync(WorkerArguments args, HostConfig config, Lifeline lifeline)
    {
        var runnerConfig = config.FindRunner(args.RunnerName!)!;
        // An ONNX runner's worker loads no service code, only its model.
        var runner = LoadedRunner.Create(runnerConfig, runnerConfig.IsOnnx ? [] : LoadedRunner.LoadAssemblies(config));
        runner.CheckApis(config);
        if (!await InitializeAsync(runner, runnerConfig, args.Index, runnerConfig.Workers, config, lifeline).ConfigureAwait(false))
            return 0;

        config.RunnerEndpoints!.TryGetValue(runnerConfig.Name, out var endpoint);
        var secured = args.Listen?.Kind == ListenKind.Tcp
            || (args.ListenFd is not null && endpoint?.TransportKind == RunnerTransport.Tcp);

        // The runner protocol straight on Kestrel's connection pipeline: Kestrel accepts, limits and
        // drains the connections; RunnerSession reads and writes the frames (docs/worker-protocol.md).
        var builder = CreateBuilder(args, o => o.UseConnectionHandler<RunnerConnectionHandler>(), maxRequestBodyBytes: null);
        // The frames are read and written on the socket's own thread (no hop to Kestrel's IO queue):
        // safe because no runner method runs there — direct calls and batches go to the thread pool.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        var metrics = OpenMetrics(args, export: false);
        builder.Services.AddSingleton(sp => new RunnerEndpointService(runner, config, args.WorkerName, secured ? config.RunnerSecret ?? "" : null,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Serving.Runner"),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Serving.Batching"), metrics.Batches(runnerConfig.Name)));
        builder.Services.AddSingleton<RunnerConnectionHandler>();

        var app = builder.Build();
        var service = app.Services.GetRequiredService<RunnerEndpointService>();
        using var stats = new RunnerStatsReporter(service);
        return await WorkerServing.ServeAsync(app, args, lifeline,
            onStopping: service.BeginDrain,
            afterStop: async log =>
            {
                foreach (var target in service.Targets)
                    await target.DrainAsync().ConfigureAwait(false);
                stats.Report();
                await runner.DisposeRunnerAsync(DisposeTimeout, log).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    public static async Task<int> RunApiAsync(WorkerArguments args, HostConfig config, Lifeline lifeline)
    {
        var timeout = TimeSpan.FromSeconds(config.RequestTimeoutSeconds);
        var maxFrame = RunnerLimits.MaxFramePayload(config);
        // Replies may be larger than requests: only maxMessageBytes bounds them.
        var maxReply = config.MaxMessageBytes ?? Array.MaxLength;
        var metrics = OpenMetrics(args, export: true);
        var channels = new Dictionary<string, RunnerClient>(StringComparer.Ordinal);
        foreach (var runner in config.Service!.Runners!)
        {
            var endpoint = config.RunnerEndpoints![runner.Name];
            channels[runner.Name] = new RunnerClient(runner.Name, endpoint, runner.Workers, config.RunnerSecret, timeout, maxReply, config.Tuning, lifeline,
                metrics.RunnerCalls(runner.Name));
        }
        var readiness = new RunnerPingReadiness([.. channels.Values]);
        Func<ILogger, Task> afterStop = _ =>
        {
            foreach (var c in channels.Values)
                c.Dispose();
            return Task.CompletedTask;
        };

        var app = BuildApiApp(args, config, lifeline, readiness, metrics,
            api => new RemoteFrontDoorApi(api, channels[api.Runner]),
            api => new RemoteApiRoute(api, channels[api.Runner], config.MaxRequestBodyBytes, maxFrame));

        return await WorkerServing.ServeAsync(app, args, lifeline, onStopping: static () => { }, afterStop,
            keepAliveClients: config.ProtocolKind == ServingProtocol.Http, http2Clients: config.ProtocolKind == ServingProtocol.Grpc).ConfigureAwait(false);
    }

    public static async Task<int> RunDevAsync(WorkerArguments args, HostConfig config, Lifeline lifeline)
    {
        var assemblies = LoadedRunner.LoadAssemblies(config);
        var runners = new Dictionary<string, LoadedRunner>(StringComparer.Ordinal);
        foreach (var runnerConfig in config.Service!.Runners!)
        {
            var runner = LoadedRunner.Create(runnerConfig, assemblies);
            runner.CheckApis(config);
            runners[runnerConfig.Name] = runner;
        }
        foreach (var runnerConfig in config.Service.Runners)
        {
            if (!await InitializeAsync(runners[runnerConfig.Name], runnerConfig, 1, 1, config, lifeline).ConfigureAwait(false))
                return 0;
        }

        var timeout = TimeSpan.FromSeconds(config.RequestTimeoutSeconds);
        var readiness = new InProcessReadiness(runners.Keys);
        var metrics = OpenMetrics(args, export: true);
        var app = BuildApiApp(args, config, lifeline, readiness, metrics,
            api => new InProcessFrontDoorApi(api, runners[api.Runner].Methods[api.Method], timeout, lifeline.DrainExpired),
            api => new InProcessApiRoute(api, runners[api.Runner].Methods[api.Method], config.MaxRequestBodyBytes, timeout, lifeline.DrainExpired));

        return await WorkerServing.ServeAsync(app, args, lifeline, onStopping: static () => { },
            afterStop: async l =>
            {
                foreach (var runner in runners.Values)
                    await runner.DisposeRunnerAsync(DisposeTimeout, l).ConfigureAwait(false);
            }, keepAliveClients: config.ProtocolKind == ServingProtocol.Http, http2Clients: config.ProtocolKind == ServingProtocol.Grpc).ConfigureAwait(false);
    }

    /// <summary>
    /// The API surface of an api or dev worker: the gRPC front door or the HTTP handler, by the host's
    /// protocol. The roles differ only in how an API reaches its runner (a channel, or in-process).
    /// </summary>
    private static WebApplication BuildApiApp(WorkerArguments args, HostConfig config, Lifeline lifeline, IReadinessSource readiness,
        WorkerMetrics metrics, Func<ApiConfig, FrontDoorApi> frontDoorApi, Func<ApiConfig, ApiRoute> httpRoute)
    {
        if (config.ProtocolKind == ServingProtocol.Grpc)
            return BuildFrontDoor(args, config, lifeline, readiness, metrics, config.Service!.Apis!.Select(frontDoorApi).ToList());
        var app = CreateBuilder(args, o => o.Protocols = ApiProtocols, config.MaxRequestBodyBytes).Build();
        var routes = config.Service!.Apis!.Select(httpRoute).ToList();
        app.Run(new ApiHandler(routes, args.WorkerName, readiness, lifeline, metrics, args.MetricsListen?.Port,
            AccessLogFor(config, app.Services)).HandleAsync);
        return app;
    }

    /// <summary>-AccessLog's writer (host.json <c>accessLog</c>), or null when it is off.</summary>
    private static AccessLog? AccessLogFor(HostConfig config, IServiceProvider services) =>
        config.AccessLog ? new AccessLog(services.GetRequiredService<ILoggerFactory>().CreateLogger("Serving.Access"), config.Generation) : null;

    /// <summary>
    /// This worker's metrics segment in the host's metrics directory (next to host.json), and for API and
    /// development workers the exporter that answers /metrics with the whole host's totals. Never unmapped: a
    /// request still finishing while the process exits may record into it; the mapping ends with the process.
    /// </summary>
    private static WorkerMetrics OpenMetrics(WorkerArguments args, bool export) =>
        WorkerMetrics.Open(MetricSegmentLayout.DirectoryFor(args.ConfigPath), args.WorkerName, export,
            warning => LineLoggerProvider.Write(LogLevel.Warning, warning));

    /// <summary>
    /// The gRPC front door (protocol Grpc, api and dev roles): an HTTP/2-only (h2c) endpoint serving
    /// serving.v1.Serving, grpc.health.v1.Health, server reflection and the /livez, /readyz,
    /// /healthz probes; every response carries x-serving-worker.
    /// </summary>
    private static WebApplication BuildFrontDoor(WorkerArguments args, HostConfig config, Lifeline lifeline,
        IReadinessSource readiness, WorkerMetrics metrics, IReadOnlyList<FrontDoorApi> apis)
    {
        var builder = CreateBuilder(args, o => o.Protocols = HttpProtocols.Http2, config.MaxRequestBodyBytes, config.MaxConcurrentStreams);
        builder.Services.AddGrpc(o =>
        {
            o.EnableDetailedErrors = false;
            // Over the limit: RESOURCE_EXHAUSTED. Without maxMessageBytes, a request may be as large as an HTTP body.
            o.MaxReceiveMessageSize = config.MaxMessageBytes ?? (int)Math.Min(config.MaxRequestBodyBytes + 64 * 1024, int.MaxValue);
            o.MaxSendMessageSize = config.MaxMessageBytes;
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(services => new FrontDoorService(apis, metrics, AccessLogFor(config, services)));
        builder.Services.AddSingleton(new FrontDoorHealth(readiness, lifeline));

        var app = builder.Build();
        var probes = new ApiHandler([], args.WorkerName, readiness, lifeline, metrics, args.MetricsListen?.Port);
        app.Use(probes.FrontDoorAsync);
        app.UseRouting();
        app.MapGrpcService<FrontDoorService>();
        app.MapGrpcService<FrontDoorHealth>();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>Runs <see cref="Runner.InitializeAsync"/>; false when a stop arrived meanwhile.</summary>
    private static async Task<bool> InitializeAsync(LoadedRunner runner, RunnerConfig runnerConfig, int index, int count, HostConfig config, Lifeline lifeline)
    {
        var context = new RunnerContext(runnerConfig.Name, index, count, config.ServiceDirectory ?? "",
            runnerConfig.EnvironmentFor(index),
            message => LineLoggerProvider.Write(LogLevel.Information, message, @event: "Serving.Runner"));
        var watch = Stopwatch.StartNew();
        try
        {
            await runner.InitializeAsync(context, lifeline.StopToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifeline.IsStopping)
        {
            return false;
        }
        if (lifeline.IsStopping)
            return false;
        LineLoggerProvider.Write(LogLevel.Information, $"runner '{runner.Name}' initialised in {watch.ElapsedMilliseconds} ms; methods: {string.Join(", ", runner.Methods.Keys)}");
        return true;
    }

    private static WebApplicationBuilder CreateBuilder(WorkerArguments args, Action<ListenOptions> endpoint, long? maxRequestBodyBytes, int? maxConcurrentStreams = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "Serving.Worker",
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new LineLoggerProvider());
        // -LogLevel: the host's minimum. The frameworks' own events only from Warning up whatever it is: below
        // that they describe every connection and request, which is what the access log is for.
        var minimum = LineLoggerProvider.MinimumLevel;
        var frameworks = minimum > LogLevel.Warning ? minimum : LogLevel.Warning;
        builder.Logging.SetMinimumLevel(minimum);
        builder.Logging.AddFilter("Microsoft", frameworks);
        builder.Logging.AddFilter("System", frameworks);
        builder.Logging.AddFilter("Grpc", frameworks);

        // The supervisor owns the lifetime: no Ctrl+C / ProcessExit hooks that would hold up an exit.
        builder.Services.AddSingleton<IHostLifetime, SupervisedLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);

        var sockets = new ListenSockets();
        var connections = new OpenConnections();
        builder.Services.AddSingleton(sockets);
        builder.Services.AddSingleton(connections);
        builder.WebHost.UseKestrelCore();
        // Listening sockets the drain can close itself; --reuse-port true: Kestrel binds its own
        // SO_REUSEPORT socket (docs/worker-protocol.md).
        builder.WebHost.UseSockets(o => Listening.ConfigureTransport(o, args, sockets));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 1024 * 1024;
            if (maxConcurrentStreams is { } streams)
                kestrel.Limits.Http2.MaxStreamsPerConnection = streams;
            Listening.Configure(kestrel, args, connections, endpoint);
        });
        return builder;
    }

    private sealed class SupervisedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal static class ExitCodes
{
    public const int Stopped = 0;
    public const int BadConfiguration = 2;
    public const int ServiceLoadFailed = 3;
    public const int CannotListen = 4;
}
