using System.Net;
using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>
/// The workers' command lines and environments as a pure function of the plan and the bound sockets:
/// including what only Windows would run (workers binding their own addresses), which this machine
/// can check only here.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WorkerSpecsTests : IDisposable
{
    private readonly string _temp = Path.Combine("/tmp", "wst-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<Listener> _listeners = new();

    public WorkerSpecsTests() => Directory.CreateDirectory(_temp);

    public void Dispose()
    {
        foreach (var l in _listeners) l.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    private (HostPlan Plan, HostBindings Bindings) Plan(ServingProtocol protocol = ServingProtocol.Http, bool development = false, int? metricsPort = null)
    {
        var platform = Facts.Info("Linux", temp: _temp, cpus: 2);
        var service = new ServiceDefinition
        {
            Name = "demo",
            Runners = new[]
            {
                new RunnerDefinition { Name = "echo", Type = "E", Workers = 2 },
                new RunnerDefinition { Name = "classifier", Type = "C", Workers = 1 },
            },
            Apis = Facts.Demo.Apis,
        };
        var plan = HostPlanner.Plan(platform, service, new PlanOptions
        {
            Port = protocol == ServingProtocol.Grpc ? 8080 : 0, HostAddress = "127.0.0.1", ApiWorkers = development ? null : 2, Protocol = protocol,
            Development = development, MetricsPort = metricsPort,
        });
        var api = HostListeners.BindTcp(IPAddress.Loopback, 0);
        _listeners.Add(api);
        var runners = new Dictionary<string, Listener>();
        if (!development)
        {
            foreach (var runner in plan.Runners)
            {
                var listener = HostListeners.BindTcp(IPAddress.Loopback, 0);
                _listeners.Add(listener);
                runners[runner.Name] = listener;
            }
        }
        return (plan, new HostBindings(api, runners));
    }

    [Fact]
    public void Runners_then_api_workers_each_inheriting_its_socket()
    {
        var (plan, bindings) = Plan();
        var specs = WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:1", "/x/host.json", operatorSetGen0: false, windows: false);
        Assert.Equal(["echo-1", "echo-2", "classifier-1", "api-1", "api-2"], specs.Select(s => s.Name));
        var echo2 = specs[1];
        Assert.Same(bindings.Runners["echo"], echo2.InheritedListener);
        Assert.Equal(["--role", "runner", "--config", "/x/host.json", "--index", "2", "--runner", "echo", "--listen-fd", ((long)bindings.Runners["echo"].Handle).ToString()],
            echo2.Arguments);
        Assert.Equal("echo", echo2.Environment["SERVING_RUNNER"]);
        Assert.Equal("0x200000", echo2.Environment["DOTNET_GCgen0size"]);
        Assert.Same(bindings.Api, specs[3].InheritedListener);
    }

    [Fact]
    public void On_windows_every_worker_binds_its_address_itself()
    {
        var (plan, bindings) = Plan();
        var specs = WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:1", "/x/host.json", operatorSetGen0: false, windows: true);
        var classifier = specs.Single(s => s.Name == "classifier-1");
        Assert.Equal(["--listen", "tcp:" + bindings.Runners["classifier"].Endpoint], classifier.Arguments.TakeLast(2));
        Assert.Equal(["--listen", "http://" + bindings.Api.Endpoint], specs.Single(s => s.Name == "api-1").Arguments.TakeLast(2));
        Assert.DoesNotContain(specs, s => s.Arguments.Contains("--listen-fd"));
    }

    [Fact]
    public void Production_grpc_api_workers_bind_the_port_with_reuse_port_and_an_operators_gen0_setting_wins()
    {
        var (plan, bindings) = Plan(ServingProtocol.Grpc);
        var specs = WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:8080", "/x/host.json", operatorSetGen0: true, windows: false);
        var api = specs.Single(s => s.Name == "api-2");
        Assert.Null(api.InheritedListener);
        Assert.Equal(["--listen", "http://" + bindings.Api.Endpoint, "--reuse-port", "true"], api.Arguments.TakeLast(4));
        Assert.All(specs, s => Assert.False(s.Environment.ContainsKey("DOTNET_GCgen0size")));
    }

    [Fact]
    public void Development_mode_is_one_dev_worker_on_the_api_socket()
    {
        var (plan, bindings) = Plan(development: true);
        var spec = Assert.Single(WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:1", "/x/host.json", operatorSetGen0: false, windows: false));
        Assert.Equal(WorkerRole.Dev, spec.Role);
        Assert.Equal("http://127.0.0.1:1", spec.Endpoint);
        Assert.Same(bindings.Api, spec.InheritedListener);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void With_a_metrics_port_api_workers_bind_it_themselves_and_runners_never(bool windows)
    {
        var (plan, bindings) = Plan(metricsPort: 9464);
        var specs = WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:1", "/x/host.json", operatorSetGen0: false, windows: windows);
        string? MetricsListen(WorkerSpec spec)
        {
            var at = spec.Arguments.ToList().IndexOf("--metrics-listen");
            return at < 0 ? null : spec.Arguments[at + 1];
        }
        Assert.All(specs.Where(s => s.Role == WorkerRole.Runner), s => Assert.Null(MetricsListen(s)));
        Assert.Equal("http://127.0.0.1:9464", MetricsListen(specs.Single(s => s.Name == "api-1")));
        // Without SO_REUSEPORT (Windows) only the first API worker may bind the port.
        Assert.Equal(windows ? null : "http://127.0.0.1:9464", MetricsListen(specs.Single(s => s.Name == "api-2")));
        Assert.Equal("http://127.0.0.1:9464/metrics", plan.MetricsUrl);
    }

    [Fact]
    public void Without_a_metrics_port_no_worker_gets_one_and_an_http_host_is_scraped_on_its_api_port()
    {
        var (plan, bindings) = Plan();
        var specs = WorkerSpecs.Build(plan, bindings, "t", "http://127.0.0.1:1", "/x/host.json", operatorSetGen0: false, windows: false);
        Assert.All(specs, s => Assert.DoesNotContain("--metrics-listen", s.Arguments));
        Assert.EndsWith("/metrics", plan.MetricsUrl);
        Assert.Equal("", Plan(ServingProtocol.Grpc).Plan.MetricsUrl);
    }
}
