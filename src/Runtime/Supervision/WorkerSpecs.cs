using System.Globalization;

namespace Serving;

/// <summary>
/// What every worker of a plan is started with — name, command line, environment, the socket it
/// inherits — as a pure function of the plan, the sockets bound for it and two facts about the
/// machine (docs/worker-protocol.md, "Command line" and "Environment").
/// </summary>
internal static class WorkerSpecs
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    /// <summary>
    /// Production gRPC: every API worker binds the port itself with SO_REUSEPORT and the kernel spreads
    /// connections across them (the seed's design); nothing is inherited. HTTP API workers share one
    /// inherited socket.
    /// </summary>
    public static bool ApiWorkersBindThemselves(HostPlan plan) =>
        plan.Protocol == ServingProtocol.Grpc && plan.Mode == ServingMode.Production;

    /// <summary>The workers of <paramref name="plan"/>: each runner's, then the API workers (development: the one dev worker).</summary>
    /// <param name="url">The host's URL (development mode's worker serves it).</param>
    /// <param name="operatorSetGen0">The supervisor's own environment sets <see cref="Gen0SizeVariable"/>: the workers inherit it.</param>
    /// <param name="windows">No fd inheritance for Kestrel: workers bind their addresses themselves.</param>
    public static IReadOnlyList<WorkerSpec> Build(HostPlan plan, HostBindings bindings, string hostName, string url, string configPath,
        bool operatorSetGen0, bool windows)
    {
        var baseEnv = new Dictionary<string, string>
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
        var apiEnv = baseEnv;
        if (!operatorSetGen0)
        {
            baseEnv[Gen0SizeVariable] = "0x200000";
            if (plan.Protocol == ServingProtocol.Grpc)
                apiEnv = new Dictionary<string, string>(baseEnv) { [Gen0SizeVariable] = "0x100000" };
        }

        var specs = new List<WorkerSpec>();
        if (plan.Mode == ServingMode.Development)
        {
            specs.Add(Spec(plan, WorkerRole.Dev, "dev-1", null, 1, url, configPath, bindings.Api, bindings, baseEnv, null, null, windows));
            return specs;
        }
        foreach (var runner in plan.Runners)
        {
            var definition = plan.Definition.Runners.First(d => d.Name == runner.Name);
            var listener = bindings.Runners[runner.Name];
            for (var i = 1; i <= runner.Workers; i++)
            {
                var perWorker = i <= definition.WorkerEnvironment.Count ? definition.WorkerEnvironment[i - 1] : null;
                specs.Add(Spec(plan, WorkerRole.Runner, $"{runner.Name}-{i}", runner.Name, i, listener.Endpoint, configPath,
                    listener, bindings, baseEnv, definition.Environment, perWorker, windows));
            }
        }
        for (var i = 1; i <= plan.ApiWorkers; i++)
            specs.Add(Spec(plan, WorkerRole.Api, $"api-{i}", null, i, bindings.Api.Endpoint, configPath, bindings.Api, bindings, apiEnv, null, null, windows));
        return specs;
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
