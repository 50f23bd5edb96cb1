using System.Globalization;

namespace Serving.Runtime.Supervision;

/// <summary>
/// What every worker of a plan is started with — name, command line, environment, the socket it
/// inherits — as a pure function of the plan, the sockets bound for it and two facts about the
/// machine (docs/worker-protocol.md, "Command line" and "Environment").
/// </summary>
internal static class WorkerSpecs
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    /// <summary>The workers of <paramref name="plan"/>: each runner's, then the API workers (development: the one dev worker).</summary>
    /// <param name="url">The host's URL (development mode's worker serves it).</param>
    /// <param name="operatorSetGen0">The supervisor's own environment sets <see cref="Gen0SizeVariable"/>: the workers inherit it.</param>
    /// <param name="windows">No fd inheritance for Kestrel: workers bind their addresses themselves.</param>
    public static IReadOnlyList<WorkerSpec> Build(HostPlan plan, HostBindings bindings, string hostName, string url, string configPath,
        bool operatorSetGen0, bool windows)
        => Build(new SpecContext(plan, bindings, hostName, url, configPath, operatorSetGen0, windows));

    /// <summary>The workers of the context's plan, in the order <see cref="Build(HostPlan, HostBindings, string, string, string, bool, bool)"/> gives.</summary>
    public static IReadOnlyList<WorkerSpec> Build(SpecContext context)
    {
        var plan = context.Plan;
        var specs = new List<WorkerSpec>();
        if (plan.Mode == ServingMode.Development)
        {
            specs.Add(context.Dev());
            return specs;
        }
        foreach (var runner in plan.Runners)
            for (var i = 1; i <= runner.Workers; i++)
                specs.Add(context.Runner(runner.Name, i));
        for (var i = 1; i <= plan.ApiWorkers; i++)
            specs.Add(context.Api(i));
        return specs;
    }

    /// <summary>
    /// Production gRPC: every API worker binds the port itself with SO_REUSEPORT and the kernel spreads
    /// connections across them (the seed's design); nothing is inherited. HTTP API workers share one
    /// inherited socket.
    /// </summary>
    public static bool ApiWorkersBindThemselves(HostPlan plan) =>
        plan.Protocol == ServingProtocol.Grpc && plan.Mode == ServingMode.Production;

    /// <summary>
    /// Whether every API worker serves the metrics port (each binding it with SO_REUSEPORT, the supervisor keeping
    /// it reserved); on Windows, without SO_REUSEPORT, only the first API worker binds it.
    /// </summary>
    public static bool MetricsPortShared(bool windows) => !windows;

    /// <summary>
    /// Whether a worker's successor can start while it still serves (a rolling restart): yes where the
    /// two share the socket — an inherited fd, or SO_REUSEPORT — so the kernel hands connections to
    /// either until the old one closes its copy. On Windows workers bind their addresses themselves
    /// without either (see <see cref="Build"/>): the old one must let go of the address first.
    /// </summary>
    public static bool SuccessorCanOverlap(bool windows) => !windows;

    /// <summary>
    /// Everything the specs of one host have in common; a spec for one more worker (scaling up) comes
    /// from the same context as those built at start.
    /// </summary>
    internal sealed class SpecContext
    {
        private readonly HostPlan _plan;
        private readonly HostBindings _bindings;
        private readonly string _url;
        private readonly string _configPath;
        private readonly bool _windows;
        private readonly Dictionary<string, string> _baseEnv;
        private readonly Dictionary<string, string> _apiEnv;

        public SpecContext(HostPlan plan, HostBindings bindings, string hostName, string url, string configPath, bool operatorSetGen0, bool windows)
        {
            _plan = plan;
            _bindings = bindings;
            _url = url;
            _configPath = configPath;
            _windows = windows;
            _baseEnv = new Dictionary<string, string>
            {
                ["SERVING_HOST_ID"] = plan.HostId,
                ["SERVING_HOST_NAME"] = hostName,
                ["NO_COLOR"] = "1",
                ["DOTNET_NOLOGO"] = "1",
            };
            // Many workers share one machine: a 2 MiB gen0 budget (workstation GC otherwise sizes it from the
            // CPU's cache, tens of MiB here) keeps each worker's RSS under 80 MB at a few more, shorter gen0
            // collections (docs/benchmarks.md). The gRPC front door's API workers get 1 MiB: HTTP/2 keeps more
            // per connection, and 64 clients took them to ~87 MB with 2 MiB, ~79 MB with 1 MiB. An operator's
            // own setting wins.
            _apiEnv = _baseEnv;
            if (!operatorSetGen0)
            {
                _baseEnv[Gen0SizeVariable] = "0x200000";
                if (plan.Protocol == ServingProtocol.Grpc)
                    _apiEnv = new Dictionary<string, string>(_baseEnv) { [Gen0SizeVariable] = "0x100000" };
            }
        }

        public HostPlan Plan => _plan;

        public WorkerSpec Dev() =>
            Spec(_plan, WorkerRole.Dev, "dev-1", null, 1, _url, _configPath, _bindings.Api, _bindings, _baseEnv, null, null, _windows);

        /// <summary>Runner <paramref name="runner"/>'s worker number <paramref name="index"/> (1-based).</summary>
        public WorkerSpec Runner(string runner, int index)
        {
            var definition = _plan.Definition.Runners.First(d => d.Name == runner);
            var listener = _bindings.Runners[runner];
            var perWorker = index <= definition.WorkerEnvironment.Count ? definition.WorkerEnvironment[index - 1] : null;
            return Spec(_plan, WorkerRole.Runner, $"{runner}-{index}", runner, index, listener.Endpoint, _configPath,
                listener, _bindings, _baseEnv, definition.Environment, perWorker, _windows);
        }

        /// <summary>API worker number <paramref name="index"/> (1-based).</summary>
        public WorkerSpec Api(int index) =>
            Spec(_plan, WorkerRole.Api, $"api-{index}", null, index, _bindings.Api.Endpoint, _configPath, _bindings.Api, _bindings, _apiEnv, null, null, _windows);
    }

    private static WorkerSpec Spec(HostPlan plan, WorkerRole role, string name, string? runner, int index, string endpoint, string configPath,
        Listener listener, HostBindings bindings, Dictionary<string, string> baseEnv,
        IReadOnlyDictionary<string, string>? runnerEnv, IReadOnlyDictionary<string, string>? workerEnv, bool windows)
    {
        var env = new Dictionary<string, string>(baseEnv)
        {
            ["SERVING_ROLE"] = role.ToString().ToLowerInvariant(),
            ["SERVING_WORKER_INDEX"] = index.ToString(CultureInfo.InvariantCulture),
            ["SERVING_WORKER_NAME"] = name,
        };
        if (runner != null) env["SERVING_RUNNER"] = runner;
        if (runnerEnv != null) foreach (var (k, v) in runnerEnv) env[k] = v;
        if (workerEnv != null) foreach (var (k, v) in workerEnv) env[k] = v;

        var args = new List<string>
        {
            "--role", role.ToString().ToLowerInvariant(),
            "--config", configPath,
            "--index", index.ToString(CultureInfo.InvariantCulture),
        };
        if (runner != null) { args.Add("--runner"); args.Add(runner); }
        if (role != WorkerRole.Runner && plan.MetricsPort is { } metricsPort && (MetricsPortShared(windows) || index == 1))
        {
            args.Add("--metrics-listen");
            args.Add("http://" + HostListeners.FormatEndpoint(new System.Net.IPEndPoint(HostPlanner.ParseHostAddress(plan.HostAddress), metricsPort)));
        }
        Listener? inherited = listener;
        if (role == WorkerRole.Api && ApiWorkersBindThemselves(plan))
        {
            args.Add("--listen");
            args.Add("http://" + bindings.Api.Endpoint);
            args.Add("--reuse-port");
            args.Add("true");
            inherited = null;
        }
        else if (windows)
        {
            // No fd inheritance for Kestrel on Windows: the worker binds the address itself.
            args.Add("--listen");
            args.Add(role == WorkerRole.Runner ? "tcp:" + endpoint : "http://" + bindings.Api.Endpoint);
        }
        else
        {
            args.Add("--listen-fd");
            args.Add(((long)listener.Handle).ToString(CultureInfo.InvariantCulture));
        }

        return new WorkerSpec
        {
            Role = role,
            Name = name,
            Runner = runner,
            Index = index,
            Endpoint = endpoint,
            Arguments = args,
            Environment = env,
            InheritedListener = inherited,
        };
    }
}
