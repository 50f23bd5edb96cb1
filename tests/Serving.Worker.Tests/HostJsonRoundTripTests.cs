extern alias runtime;

using System.Collections;
using System.Reflection;
using System.Security.Cryptography;
using Serving.Worker.Hosting;
using Supervisor = runtime::Serving.Runtime;
using SupervisorShared = runtime::Serving.Shared;

namespace Serving.Worker.Tests;

/// <summary>
/// host.json across the process boundary: what the supervisor writes (its <c>HostConfigWriter</c>, from a plan made
/// the way Start-ServingHost makes one) is what the worker reads (<see cref="HostConfig.Load"/>), value by value.
/// The two sides are written separately and agree only on names; these tests are where a renamed key, a dropped
/// value or an enum spelled differently shows. The supervisor's assembly is referenced under the alias
/// <c>runtime</c>: both assemblies compile src/Shared, so both define <c>Serving.Shared.WorkerTuning</c> and the like.
/// Enums are compared by name, which is what host.json carries.
/// </summary>
public sealed class HostJsonRoundTripTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "hjrt-" + Guid.NewGuid().ToString("N")[..8]);
    private int _files;

    public HostJsonRoundTripTests() => Directory.CreateDirectory(_temp);

    public void Dispose()
    {
        if (Directory.Exists(_temp))
            Directory.Delete(_temp, recursive: true);
    }

    private static readonly IReadOnlyDictionary<string, int> NoScaling = new Dictionary<string, int>();

    [Fact]
    public void Production_http_over_uds_reads_back_every_value_written()
    {
        var directory = Path.Combine(_temp, "service");
        var service = new Supervisor.Services.ServiceDefinition
        {
            Name = "round-trip",
            ManifestPath = Path.Combine(directory, "serving.json"),
            Directory = directory,
            Assemblies = new[] { Path.Combine(directory, "Runners.dll"), Path.Combine(directory, "More Runners.dll") },
            Runners = new[]
            {
                new Supervisor.Services.RunnerDefinition
                {
                    Name = "echo", Type = "Serving.Demo.EchoRunner", Workers = 2,
                    Environment = new Dictionary<string, string> { ["MODEL_PATH"] = "models/echo", ["GREETING"] = "say \"hi\" — ünïcode = yes" },
                    WorkerEnvironment = new IReadOnlyDictionary<string, string>[]
                    {
                        new Dictionary<string, string> { ["CUDA_VISIBLE_DEVICES"] = "0" },
                        new Dictionary<string, string> { ["CUDA_VISIBLE_DEVICES"] = "1", ["MODEL_PATH"] = "models/echo-2" },
                    },
                },
                new Supervisor.Services.RunnerDefinition
                {
                    Name = "classifier", Type = "Serving.Demo.IrisClassifierRunner", Workers = 3,
                    Environment = new Dictionary<string, string> { ["THREADS"] = "4" },
                    WorkerEnvironment = new IReadOnlyDictionary<string, string>[] { new Dictionary<string, string> { ["SHARD"] = "a" } },
                },
            },
            Apis = new[]
            {
                new Supervisor.Services.ApiDefinition { Route = "/echo", Runner = "echo", Method = "echo" },
                new Supervisor.Services.ApiDefinition
                {
                    Route = "/echo-text", Runner = "echo", Method = "echoText",
                    Input = SupervisorShared.PayloadKind.Text, Output = SupervisorShared.PayloadKind.Text,
                },
                new Supervisor.Services.ApiDefinition
                {
                    Route = "/classify", Runner = "classifier", Method = "classify", MaxBatchSize = 32, MaxLatencyMs = 7,
                },
                new Supervisor.Services.ApiDefinition
                {
                    Route = "/raw", Runner = "classifier", Method = "raw",
                    Input = SupervisorShared.PayloadKind.Bytes, Output = SupervisorShared.PayloadKind.Bytes,
                },
                new Supervisor.Services.ApiDefinition
                {
                    Route = "/mixed", Runner = "echo", Method = "mixed",
                    Input = SupervisorShared.PayloadKind.Bytes, Output = SupervisorShared.PayloadKind.Text,
                },
            },
        };
        var plan = Plan(service, new Supervisor.Planning.PlanOptions
        {
            HostId = "a1b2c3d4", Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 2, Transport = Supervisor.Platform.TransportChoice.Uds,
        });
        Assert.Equal(SupervisorShared.RunnerTransport.Uds, plan.Transport);
        var options = new Supervisor.Supervision.HostOptions
        {
            Name = "rt-host",
            RequestTimeout = TimeSpan.FromSeconds(42.5),
            MaxMessageBytes = 8 * 1024 * 1024,
            MaxConcurrentStreams = 37,
            // Above int.MaxValue: the limit is a long on both sides.
            MaxRequestBodyBytes = 3_000_000_000L,
            Tuning = NonDefaultTuning(),
            // Off their defaults (Text, Information), so a dropped key shows.
            LogFormat = SupervisorShared.LogFormat.Json,
            LogLevel = Supervisor.Supervision.LogLevel.Warning,
            AccessLog = true,
        };
        var endpoints = EndpointsOf(plan);

        var read = WriteAndLoad(plan, "rt-host", endpoints, NoScaling, "", options, generation: 3);

        AssertReadAsWritten(read, plan, "rt-host", endpoints, NoScaling, "", options, generation: 3);
        // The same, spelled out.
        Assert.Equal("a1b2c3d4", read.HostId);
        Assert.Equal("rt-host", read.HostName);
        Assert.Equal(ServingProtocol.Http, read.ProtocolKind);
        Assert.Equal(directory, read.ServiceDirectory);
        Assert.Equal("round-trip", read.Service!.Name);
        Assert.Equal(new[] { 2, 3 }, read.Service.Runners!.Select(r => r.Workers));
        var echo = read.FindRunner("echo")!;
        Assert.Equal("say \"hi\" — ünïcode = yes", echo.Environment!["GREETING"]);
        Assert.Equal("models/echo-2", echo.EnvironmentFor(2)["MODEL_PATH"]);
        Assert.Equal("models/echo", echo.EnvironmentFor(1)["MODEL_PATH"]);
        Assert.Equal("1", echo.EnvironmentFor(2)["CUDA_VISIBLE_DEVICES"]);
        var classify = read.Service.Apis!.Single(a => a.Route == "/classify");
        Assert.Equal((32, 7, 2), (classify.MaxBatchSize, classify.MaxLatencyMs, classify.Index));
        Assert.All(read.Service.Apis!.Where(a => a.Route != "/classify"), a => Assert.Null(a.MaxBatchSize));
        Assert.All(read.Service.Apis!.Where(a => a.Route != "/classify"), a => Assert.Null(a.MaxLatencyMs));
        Assert.Equal(new[] { "Json/Json", "Text/Text", "Json/Json", "Bytes/Bytes", "Bytes/Text" },
            read.Service.Apis!.Select(a => a.InputKind + "/" + a.OutputKind));
        Assert.Equal(plan.Runners.Single(r => r.Name == "classifier").Endpoint, read.RunnerEndpoints!["classifier"].Address);
        Assert.Equal("Uds", read.RunnerEndpoints["classifier"].TransportKind.ToString());
        Assert.Null(read.RunnerSecret);
        Assert.Equal(42.5, read.RequestTimeoutSeconds);
        Assert.Equal(8 * 1024 * 1024, read.MaxMessageBytes);
        Assert.Equal(37, read.MaxConcurrentStreams);
        Assert.Equal(3_000_000_000L, read.MaxRequestBodyBytes);
        Assert.Equal(7_250, read.Tuning.RunnerConnectTimeoutMs);
        Assert.Equal(LogFormat.Json, read.LogFormatKind);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, read.MinimumLevel);
        Assert.Equal(40, read.Tuning.BatchQueueBatches);
        Assert.True(read.AccessLog);
        Assert.Equal(3, read.Generation);
    }

    [Fact]
    public void Onnx_runners_read_back_their_model_and_intra_op_threads()
    {
        var directory = Path.Combine(_temp, "onnx service");
        var service = new Supervisor.Services.ServiceDefinition
        {
            Name = "onnx-round-trip",
            ManifestPath = Path.Combine(directory, "serving.psd1"),
            Directory = directory,
            Runners = new[]
            {
                new Supervisor.Services.RunnerDefinition { Name = "iris", Onnx = Path.Combine(directory, "models", "iris ünï.onnx"), Workers = 2, IntraOpThreads = 3 },
                // No IntraOpThreads: OnnxRuntime's default, which host.json leaves out.
                new Supervisor.Services.RunnerDefinition { Name = "plain", Onnx = Path.Combine(directory, "plain.onnx") },
            },
            Apis = new[]
            {
                new Supervisor.Services.ApiDefinition { Route = "/iris", Runner = "iris", Method = "predict", MaxBatchSize = 16 },
                new Supervisor.Services.ApiDefinition { Route = "/plain", Runner = "plain", Method = "predict" },
            },
        };
        var plan = Plan(service, new Supervisor.Planning.PlanOptions
        {
            Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 1, Transport = Supervisor.Platform.TransportChoice.Uds,
        });
        var options = new Supervisor.Supervision.HostOptions { Name = "onnx-host" };
        var endpoints = EndpointsOf(plan);

        var read = WriteAndLoad(plan, "onnx-host", endpoints, NoScaling, "", options);

        AssertReadAsWritten(read, plan, "onnx-host", endpoints, NoScaling, "", options);
        var iris = read.FindRunner("iris")!;
        Assert.True(iris.IsOnnx);
        Assert.Null(iris.Type);
        Assert.Equal(Path.Combine(directory, "models", "iris ünï.onnx"), iris.Onnx);
        Assert.Equal(3, iris.IntraOpThreads);
        Assert.Null(read.FindRunner("plain")!.IntraOpThreads);
        Assert.Empty(read.Service!.Assemblies!);
    }

    [Fact]
    public void Tcp_endpoints_and_the_secret_are_read_back()
    {
        var plan = Plan(TwoRunners(), new Supervisor.Planning.PlanOptions
        {
            Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 2, Transport = Supervisor.Platform.TransportChoice.Tcp,
        });
        Assert.Equal(SupervisorShared.RunnerTransport.Tcp, plan.Transport);
        // As bound: each runner on its own loopback port.
        var endpoints = new Dictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)>
        {
            ["echo"] = (SupervisorShared.RunnerTransport.Tcp, "127.0.0.1:41001"),
            ["classifier"] = (SupervisorShared.RunnerTransport.Tcp, "127.0.0.1:41002"),
        };
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var options = new Supervisor.Supervision.HostOptions { Name = "tcp-host" };

        var read = WriteAndLoad(plan, "tcp-host", endpoints, NoScaling, secret, options);

        AssertReadAsWritten(read, plan, "tcp-host", endpoints, NoScaling, secret, options);
        Assert.Equal(secret, read.RunnerSecret);
        Assert.Equal(new[] { "classifier", "echo" }, read.RunnerEndpoints!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Tcp", read.RunnerEndpoints["echo"].TransportKind.ToString());
        Assert.Equal("127.0.0.1:41001", read.RunnerEndpoints["echo"].Address);
        Assert.Equal("127.0.0.1:41002", read.RunnerEndpoints["classifier"].Address);
        // Defaults written are defaults read; no message limit is written as none.
        Assert.Null(read.MaxMessageBytes);
        Assert.Equal(ServingDefaults.RequestTimeoutSeconds, read.RequestTimeoutSeconds);
        Assert.Equal(ServingDefaults.MaxRequestBodyBytes, read.MaxRequestBodyBytes);
        Assert.Equal(ServingDefaults.MaxConcurrentStreams, read.MaxConcurrentStreams);
        Assert.Equal(LogFormat.Text, read.LogFormatKind);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, read.MinimumLevel);
        Assert.False(read.AccessLog);
        Assert.Equal(1, read.Generation);
    }

    [Theory]
    [InlineData("Trace")]
    [InlineData("Debug")]
    [InlineData("Information")]
    [InlineData("Warning")]
    [InlineData("Error")]
    [InlineData("Critical")]
    public void Every_log_level_is_read_back_as_the_same_level(string name)
    {
        var plan = Plan(TwoRunners(), new Supervisor.Planning.PlanOptions { Port = 0, HostAddress = "127.0.0.1", Development = true });
        var options = new Supervisor.Supervision.HostOptions { Name = "levels", LogLevel = Enum.Parse<Supervisor.Supervision.LogLevel>(name) };

        var read = WriteAndLoad(plan, "levels", new Dictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)>(), NoScaling, "", options);

        AssertReadAsWritten(read, plan, "levels", new Dictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)>(), NoScaling, "", options);
        Assert.Equal(name, read.MinimumLevel.ToString());
    }

    [Fact]
    public void The_grpc_protocol_is_read_back()
    {
        var plan = Plan(TwoRunners(), new Supervisor.Planning.PlanOptions
        {
            Port = 50_051, HostAddress = "127.0.0.1", ApiWorkers = 2, Protocol = SupervisorShared.ServingProtocol.Grpc,
            Transport = Supervisor.Platform.TransportChoice.Uds,
        });
        Assert.Equal(SupervisorShared.ServingProtocol.Grpc, plan.Protocol);
        var options = new Supervisor.Supervision.HostOptions { Name = "grpc-host", MaxMessageBytes = 1024, MaxConcurrentStreams = 1 };
        var endpoints = EndpointsOf(plan);

        var read = WriteAndLoad(plan, "grpc-host", endpoints, NoScaling, "", options);

        AssertReadAsWritten(read, plan, "grpc-host", endpoints, NoScaling, "", options);
        Assert.Equal(ServingProtocol.Grpc, read.ProtocolKind);
        Assert.Equal(1024, read.MaxMessageBytes);
        Assert.Equal(1, read.MaxConcurrentStreams);
    }

    [Fact]
    public void Development_mode_writes_no_runner_endpoints_and_they_read_as_none()
    {
        var plan = Plan(TwoRunners(), new Supervisor.Planning.PlanOptions { Port = 0, HostAddress = "127.0.0.1", Development = true });
        Assert.Equal(Supervisor.Platform.ServingMode.Development, plan.Mode);
        Assert.Equal(SupervisorShared.RunnerTransport.InProcess, plan.Transport);
        // As ServingHost does in development mode: no endpoints, no secret, no scaled counts.
        var endpoints = new Dictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)>();
        var options = new Supervisor.Supervision.HostOptions { Name = "dev-host", Tuning = NonDefaultTuning() };

        var read = WriteAndLoad(plan, "dev-host", endpoints, NoScaling, "", options);

        AssertReadAsWritten(read, plan, "dev-host", endpoints, NoScaling, "", options);
        Assert.Empty(read.RunnerEndpoints!);
        Assert.Null(read.RunnerSecret);
        Assert.Equal(ServingProtocol.Http, read.ProtocolKind);
        // The manifest's counts (the plan's are 0: the runners live in the API process).
        Assert.Equal(new[] { 2, 1 }, read.Service!.Runners!.Select(r => r.Workers));
    }

    [Fact]
    public void A_scaled_runner_is_read_with_its_current_worker_count()
    {
        var plan = Plan(TwoRunners(), new Supervisor.Planning.PlanOptions
        {
            Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 1, Transport = Supervisor.Platform.TransportChoice.Uds,
        });
        var endpoints = EndpointsOf(plan);
        // Scale-ServingHost echo 3: the manifest says 2; the classifier is not scaled (its manifest's 1).
        var runnerWorkers = new Dictionary<string, int> { ["echo"] = 3 };
        var options = new Supervisor.Supervision.HostOptions { Name = "scaled" };

        var read = WriteAndLoad(plan, "scaled", endpoints, runnerWorkers, "", options);

        AssertReadAsWritten(read, plan, "scaled", endpoints, runnerWorkers, "", options);
        Assert.Equal(3, read.FindRunner("echo")!.Workers);
        Assert.Equal(1, read.FindRunner("classifier")!.Workers);
    }

    [Fact]
    public void The_test_tuning_changes_every_tunable_within_its_range()
    {
        // The round trip proves a tunable's key only when its value differs from the worker's default (a dropped
        // or renamed key reads as the default): a tunable added later must get a value here too.
        var tuning = NonDefaultTuning();
        var defaults = new SupervisorShared.WorkerTuning();
        Assert.Null(tuning.Problem());
        foreach (var property in Tunables(typeof(SupervisorShared.WorkerTuning)))
            Assert.False(Equals(property.GetValue(tuning), property.GetValue(defaults)),
                $"WorkerTuning.{property.Name} is at its default ({property.GetValue(defaults)}) in {nameof(NonDefaultTuning)}: give it another valid value.");
    }

    /// <summary>Every tunable off its default, within its range.</summary>
    private static SupervisorShared.WorkerTuning NonDefaultTuning() => new()
    {
        RunnerConnectTimeoutMs = 7_250,
        DeadlineSweepMs = 17,
        ConnectionsPerRunnerWorker = 3,
        MaxConnectionsPerRunner = 9,
        RunnerHelloTimeoutMs = 12_500,
        StatsIntervalMs = 750,
        BatchQueueBatches = 40,
    };

    private static Supervisor.Services.ServiceDefinition TwoRunners() => new()
    {
        Name = "demo",
        Directory = Path.Combine(Path.GetTempPath(), "demo-service"),
        Assemblies = new[] { Path.Combine(Path.GetTempPath(), "demo-service", "Serving.Demo.dll") },
        Runners = new[]
        {
            new Supervisor.Services.RunnerDefinition { Name = "echo", Type = "Serving.Demo.EchoRunner", Workers = 2 },
            new Supervisor.Services.RunnerDefinition { Name = "classifier", Type = "Serving.Demo.IrisClassifierRunner", Workers = 1 },
        },
        Apis = new[]
        {
            new Supervisor.Services.ApiDefinition { Route = "/echo", Runner = "echo", Method = "echo" },
            new Supervisor.Services.ApiDefinition { Route = "/classify", Runner = "classifier", Method = "classify" },
        },
    };

    /// <summary>A plan as Start-ServingHost makes one: assumed Linux facts, the platform rules, the planner.</summary>
    private Supervisor.Planning.HostPlan Plan(Supervisor.Services.ServiceDefinition service, Supervisor.Planning.PlanOptions options)
    {
        var facts = Supervisor.Platform.PlatformFacts.FromAssumptions(new Hashtable
        {
            ["OS"] = "Linux", ["KernelRelease"] = "", ["ProcessorCount"] = 2, ["TempDirectory"] = _temp,
        });
        return Supervisor.Planning.HostPlanner.Plan(Supervisor.Platform.PlatformRules.Evaluate(facts), service, options);
    }

    /// <summary>The runner endpoints as ServingHost passes them for a production plan (Unix sockets: the planned paths).</summary>
    private static Dictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)> EndpointsOf(Supervisor.Planning.HostPlan plan) =>
        plan.Runners.ToDictionary(r => r.Name, r => (r.Transport, r.Endpoint), StringComparer.Ordinal);

    private HostConfig WriteAndLoad(Supervisor.Planning.HostPlan plan, string hostName,
        IReadOnlyDictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)> endpoints,
        IReadOnlyDictionary<string, int> runnerWorkers, string secret, Supervisor.Supervision.HostOptions options, int generation = 1)
    {
        var path = Path.Combine(_temp, $"host-{++_files}.json");
        Supervisor.Supervision.HostConfigWriter.Write(path, plan, hostName, endpoints, runnerWorkers, secret, options, generation);
        return HostConfig.Load(path);
    }

    /// <summary>Everything the worker reads equals what the supervisor was given.</summary>
    private static void AssertReadAsWritten(HostConfig read, Supervisor.Planning.HostPlan plan, string hostName,
        IReadOnlyDictionary<string, (SupervisorShared.RunnerTransport Transport, string Address)> endpoints,
        IReadOnlyDictionary<string, int> runnerWorkers, string secret, Supervisor.Supervision.HostOptions options, int generation = 1)
    {
        var service = plan.Definition;
        Assert.Equal(generation, read.Generation);
        Assert.Equal(options.AccessLog, read.AccessLog);
        Assert.Equal(plan.HostId, read.HostId);
        Assert.Equal(hostName, read.HostName);
        Assert.Equal(plan.Protocol.ToString(), read.ProtocolKind.ToString());
        Assert.Equal(service.Directory, read.ServiceDirectory);

        Assert.NotNull(read.Service);
        Assert.Equal(service.Name, read.Service.Name);
        Assert.Equal(service.Assemblies, read.Service.Assemblies);

        Assert.Equal(service.Runners.Select(r => r.Name), read.Service.Runners!.Select(r => r.Name));
        foreach (var (written, got) in service.Runners.Zip(read.Service.Runners!))
        {
            Assert.Equal(written.Type, got.Type ?? "");
            Assert.Equal(written.Onnx, got.Onnx ?? "");
            Assert.Equal(written.IsOnnx, got.IsOnnx);
            Assert.Equal(written.IntraOpThreads, got.IntraOpThreads);
            Assert.Equal(runnerWorkers.TryGetValue(written.Name, out var workers) ? workers : written.Workers, got.Workers);
            Assert.NotNull(got.Environment);
            Assert.Equal(Entries(written.Environment), Entries(got.Environment));
            Assert.NotNull(got.WorkerEnvironment);
            Assert.Equal(written.WorkerEnvironment.Select(e => Entries(e)), got.WorkerEnvironment.Select(e => Entries(e)));
        }

        Assert.Equal(service.Apis.Select(a => a.Route), read.Service.Apis!.Select(a => a.Route));
        var index = 0;
        foreach (var (written, got) in service.Apis.Zip(read.Service.Apis!))
        {
            Assert.Equal(written.Runner, got.Runner);
            Assert.Equal(written.Method, got.Method);
            Assert.Equal(written.Input.ToString(), got.InputKind.ToString());
            Assert.Equal(written.Output.ToString(), got.OutputKind.ToString());
            Assert.Equal(index++, got.Index);
            Assert.Equal(written.MaxBatchSize, got.MaxBatchSize);
            Assert.Equal(written.MaxLatencyMs, got.MaxLatencyMs);
        }

        Assert.NotNull(read.RunnerEndpoints);
        Assert.Equal(endpoints.Keys.Order(StringComparer.Ordinal), read.RunnerEndpoints.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (transport, address)) in endpoints)
        {
            Assert.Equal(transport.ToString(), read.RunnerEndpoints[name].TransportKind.ToString());
            Assert.Equal(address, read.RunnerEndpoints[name].Address);
        }

        Assert.Equal(secret.Length > 0 ? secret : null, read.RunnerSecret);
        Assert.Equal(options.RequestTimeout.TotalSeconds, read.RequestTimeoutSeconds);
        Assert.Equal(options.MaxRequestBodyBytes, read.MaxRequestBodyBytes);
        Assert.Equal(options.MaxMessageBytes, read.MaxMessageBytes);
        Assert.Equal(options.MaxConcurrentStreams, read.MaxConcurrentStreams);
        Assert.Equal(options.LogFormat.ToString(), read.LogFormatKind.ToString());
        Assert.Equal(options.LogLevel.ToString(), read.MinimumLevel.ToString());
        AssertTuningReadAsWritten(options.Tuning, read.Tuning);
    }

    /// <summary>
    /// Property by property, by name across the two assemblies' WorkerTuning: driven by the worker's type, so a
    /// tunable added later is compared without touching this test.
    /// </summary>
    private static void AssertTuningReadAsWritten(SupervisorShared.WorkerTuning written, global::Serving.Shared.WorkerTuning read)
    {
        var workerTunables = Tunables(typeof(global::Serving.Shared.WorkerTuning));
        var supervisorTunables = Tunables(typeof(SupervisorShared.WorkerTuning)).ToDictionary(p => p.Name, StringComparer.Ordinal);
        Assert.NotEmpty(workerTunables);
        Assert.Equal(supervisorTunables.Keys.Order(StringComparer.Ordinal), workerTunables.Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var property in workerTunables)
        {
            var expected = supervisorTunables[property.Name].GetValue(written);
            var actual = property.GetValue(read);
            Assert.True(Equals(expected, actual), $"tuning.{property.Name}: the supervisor wrote {expected}, the worker read {actual}");
        }
    }

    private static PropertyInfo[] Tunables(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite).ToArray();

    private static (string Key, string Value)[] Entries(IEnumerable<KeyValuePair<string, string>> entries) =>
        entries.Select(kv => (kv.Key, kv.Value)).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
}
