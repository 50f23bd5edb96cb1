using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Serving.Runtime.Tests;

/// <summary>
/// deploy/: the Dockerfile and every Kubernetes manifest agree with each other and with the host's
/// real routes and defaults (PlanOptions.DefaultPort, HostOptions.StopTimeout, the routes the API
/// worker answers, the parameters Start-ServingHost has). Nothing here needs Docker or a cluster.
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly string Root = FindRoot();
    private static readonly string KubeDir = Path.Combine(Root, "deploy", "kubernetes");
    private static readonly Lazy<DockerImage> Image = new(() => DockerImage.Parse(File.ReadAllText(Path.Combine(Root, "deploy", "Dockerfile"))));
    private static readonly Lazy<IReadOnlyList<Manifest>> Manifests = new(LoadManifests);

    // ---- the Dockerfile -------------------------------------------------------------------------

    [Fact]
    public void The_image_runs_Start_ServingHost_Wait_in_exec_form_under_pwsh()
    {
        var image = Image.Value;
        Assert.NotNull(image.Entrypoint);
        var argv = image.Entrypoint!;
        Assert.Equal("pwsh", argv[0]);
        // -Command takes the rest of the line: it must be the last pwsh switch (CMD / docker run args are appended to it).
        var command = argv.ToList().IndexOf("-Command");
        Assert.True(command > 0 && command == argv.Length - 2, "ENTRYPOINT must end with -Command \"<script>\"");
        var script = argv[^1];
        Assert.Contains("Import-Module Serving", script);
        var start = image.StartCommand;
        Assert.Contains("-Wait", start.Switches);
        // The host's last statement: nothing after it could mask its exit code.
        Assert.EndsWith(start.Text, script.TrimEnd().TrimEnd(';'));
    }

    [Fact]
    public void The_image_command_uses_only_parameters_Start_ServingHost_has()
    {
        var known = StartServingHostParameters();
        Assert.Contains("StopTimeout", known); // the parser reads the sources it should
        foreach (var name in Image.Value.StartCommand.Parameters.Keys.Concat(Image.Value.StartCommand.Switches))
            Assert.True(known.Contains(name.TrimStart('-'), StringComparer.OrdinalIgnoreCase),
                $"Start-ServingHost has no parameter {name} (parameters: {string.Join(", ", known)})");
    }

    [Fact]
    public void The_image_listens_on_all_interfaces_on_the_port_it_exposes()
    {
        var image = Image.Value;
        Assert.Equal(new[] { ImagePort }, image.Exposed);
        var address = image.StartCommand.Parameters.GetValueOrDefault("-HostAddress");
        // Without -HostAddress a container listens on 0.0.0.0; with it, it must not be a loopback address.
        Assert.True(address is null or "0.0.0.0" or "::", $"-HostAddress {address} would not be reachable through the pod's port");
    }

    [Fact]
    public void The_image_stops_with_SIGTERM_runs_as_a_non_root_user_and_matches_the_worker_framework()
    {
        var image = Image.Value;
        Assert.Equal("SIGTERM", image.StopSignal ?? "SIGTERM");
        Assert.NotNull(image.User);
        Assert.DoesNotMatch("^(root|0)(:.*)?$", image.User!);
        // The worker is framework-dependent: the runtime stage's ASP.NET Core must be the worker's version.
        var tfm = Regex.Match(File.ReadAllText(Path.Combine(Root, "src", "Worker", "Serving.Worker.csproj")),
            "<TargetFramework>net(\\d+\\.\\d+)</TargetFramework>");
        Assert.True(tfm.Success);
        Assert.Matches($"^mcr\\.microsoft\\.com/dotnet/aspnet:{Regex.Escape(tfm.Groups[1].Value)}", image.Stages[^1]);
        Assert.Matches($"^mcr\\.microsoft\\.com/dotnet/sdk:{Regex.Escape(tfm.Groups[1].Value)}", image.Stages[0]);
        Assert.Contains(image.Runs, r => r.Contains("dotnet tool restore") && r.Contains("./build.ps1 -Task Build"));
    }

    // ---- the Kubernetes manifests -----------------------------------------------------------------

    [Fact]
    public void Every_manifest_parses_and_the_kustomization_lists_every_one()
    {
        var files = Directory.GetFiles(KubeDir, "*.yaml").Select(Path.GetFileName).Order().ToArray();
        Assert.Contains("kustomization.yaml", files);
        foreach (var m in Manifests.Value)
        {
            Assert.False(string.IsNullOrEmpty(m.Str("apiVersion")), $"{m.File}: no apiVersion");
            Assert.False(string.IsNullOrEmpty(m.Str("kind")), $"{m.File}: no kind");
            if (m.Kind != "Kustomization") Assert.False(string.IsNullOrEmpty(m.Str("metadata", "name")), $"{m.File}: no metadata.name");
        }
        var kustomization = Manifests.Value.Single(m => m.Kind == "Kustomization");
        var listed = kustomization.Seq("resources").Select(n => ((YamlScalarNode)n).Value).Order().ToArray();
        Assert.Equal(files.Where(f => f != "kustomization.yaml"), listed);
        foreach (var kind in new[] { "Deployment", "Service", "HorizontalPodAutoscaler" })
            Assert.Single(Manifests.Value, m => m.Kind == kind);
    }

    [Fact]
    public void The_container_port_is_the_port_the_image_serves()
    {
        var container = Container();
        var port = ContainerPorts(container).Single();
        Assert.Equal(ImagePort, port.Value);
        // The container runs the image's command (no command: override) so its -Port holds.
        Assert.Null(container.Child("command"));
        Assert.DoesNotContain(ContainerArgs(container), a => a.Equals("-Port", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Probes_ask_the_routes_the_worker_answers_on_the_container_port()
    {
        var container = Container();
        var answered = WorkerProbeRoutes();
        Assert.Equal(new[] { "/healthz", "/livez", "/readyz" }, answered.Order());

        var liveness = Probe(container, "livenessProbe");
        var readiness = Probe(container, "readinessProbe");
        // /livez fails only when the host is ending; /readyz also while a runner has no ready worker
        // or a drain began: liveness on /readyz would restart pods that are merely busy or starting.
        Assert.Equal("/livez", liveness.Path);
        Assert.Equal("/readyz", readiness.Path);
        var startup = container.Child("startupProbe") is null ? null : Probe(container, "startupProbe");
        foreach (var probe in new[] { liveness, readiness, startup }.OfType<HttpProbe>())
        {
            Assert.Contains(probe.Path, answered);
            Assert.Equal(ImagePort, ResolvePort(container, probe.Port));
            Assert.Equal("HTTP", probe.Scheme);
        }
    }

    [Fact]
    public void The_grace_period_outlasts_preStop_and_the_hosts_stop_timeout()
    {
        var pod = PodSpec();
        var grace = int.Parse(pod.Str("terminationGracePeriodSeconds") ?? "30", CultureInfo.InvariantCulture);
        var stop = Image.Value.StartCommand.Parameters.TryGetValue("-StopTimeout", out var s)
            ? int.Parse(s, CultureInfo.InvariantCulture)
            : (int)new HostOptions().StopTimeout.TotalSeconds;
        var preStop = 0;
        if (Container().Child("lifecycle", "preStop", "exec", "command") is YamlSequenceNode cmd)
        {
            var argv = cmd.Children.Select(n => ((YamlScalarNode)n).Value!).ToArray();
            Assert.Equal("sleep", argv[0]);
            preStop = int.Parse(argv[1], CultureInfo.InvariantCulture);
        }
        // At least 5 s for the runners' own stop and pwsh's exit after the API workers' drain.
        Assert.True(grace >= preStop + stop + 5,
            $"terminationGracePeriodSeconds {grace} must exceed preStop {preStop} s + -StopTimeout {stop} s + 5 s");
    }

    [Fact]
    public void Cpu_is_requested_and_limited_and_the_limit_gives_the_API_worker_count()
    {
        var resources = Container().Child("resources")!;
        var request = Cpu(resources.Str("requests", "cpu"));
        var limit = Cpu(resources.Str("limits", "cpu"));
        Assert.True(request > 0 && limit >= request, $"cpu request {request}, limit {limit}");
        // A limit becomes the cgroup's cpu.max "<limit * 100000> 100000"; the host reads it like this.
        var cpuMax = $"{(long)Math.Round(limit * 100_000)} 100000";
        var platform = Facts.Info("Linux", cpus: 64, quota: cpuMax, files: new Hashtable { ["/.dockerenv"] = "" });
        var plan = HostPlanner.Plan(platform, Facts.Demo, new PlanOptions { HostAddress = "0.0.0.0" });
        Assert.Equal((int)Math.Ceiling(limit), plan.ApiWorkers);
        Assert.False(plan.Respawn);
    }

    [Fact]
    public void The_service_selects_the_pods_and_targets_the_container_port()
    {
        var service = Manifests.Value.Single(m => m.Kind == "Service");
        var selector = service.Map("spec", "selector");
        var labels = Deployment().Map("spec", "template", "metadata", "labels");
        foreach (var (key, value) in selector) Assert.Equal(value, labels.GetValueOrDefault(key));
        Assert.Equal(selector, Deployment().Map("spec", "selector", "matchLabels"));
        var ports = service.Seq("spec", "ports").Cast<YamlMappingNode>().ToArray();
        Assert.NotEmpty(ports);
        foreach (var port in ports)
            Assert.Equal(ImagePort, ResolvePort(Container(), port.Str("targetPort") ?? port.Str("port")!));
    }

    [Fact]
    public void The_autoscaler_scales_the_deployment_on_cpu()
    {
        var hpa = Manifests.Value.Single(m => m.Kind == "HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", hpa.Str("apiVersion"));
        Assert.Equal("Deployment", hpa.Str("spec", "scaleTargetRef", "kind"));
        Assert.Equal(Deployment().Str("metadata", "name"), hpa.Str("spec", "scaleTargetRef", "name"));
        var min = int.Parse(hpa.Str("spec", "minReplicas") ?? "1", CultureInfo.InvariantCulture);
        var max = int.Parse(hpa.Str("spec", "maxReplicas")!, CultureInfo.InvariantCulture);
        Assert.InRange(min, 1, max);
        var cpu = hpa.Seq("spec", "metrics").Cast<YamlMappingNode>()
            .Single(m => m.Str("type") == "Resource" && m.Str("resource", "name") == "cpu");
        Assert.Equal("Utilization", cpu.Str("resource", "target", "type"));
        // Utilization is relative to the request: without one the HPA cannot compute it.
        Assert.NotNull(Container().Str("resources", "requests", "cpu"));
    }

    [Fact]
    public void Prometheus_scrapes_metrics_on_the_API_port()
    {
        var annotations = Deployment().Map("spec", "template", "metadata", "annotations");
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(ImagePort.ToString(CultureInfo.InvariantCulture), annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);
        // The host keeps /metrics for itself on the API port: no service may claim the route.
        var manifest = new Hashtable
        {
            ["Name"] = "svc",
            ["Assemblies"] = new object[] { "bin/Svc.dll" },
            ["Runners"] = new object[] { new Hashtable { ["Name"] = "r", ["Type"] = "T" } },
            ["Apis"] = new object[] { new Hashtable { ["Route"] = "/metrics", ["Runner"] = "r", ["Method"] = "m" } },
        };
        var e = Assert.Throws<ServingException>(() => ServiceManifest.Parse(manifest, "/svc/service.psd1"));
        Assert.Equal(ErrorIds.InvalidServiceManifest, e.ErrorId);
        Assert.Contains("reserved", e.Message);
    }

    [Fact]
    public void Every_selector_matches_the_pod_labels()
    {
        var labels = Deployment().Map("spec", "template", "metadata", "labels");
        foreach (var m in Manifests.Value.Where(m => m.Kind == "PodDisruptionBudget"))
            foreach (var (key, value) in m.Map("spec", "selector", "matchLabels"))
                Assert.Equal(value, labels.GetValueOrDefault(key));
    }

    [KubectlFact]
    public void Kubectl_kustomize_builds_the_manifests_offline()
    {
        var (code, output) = Run("kubectl", "kustomize", KubeDir);
        Assert.True(code == 0, output);
        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        var kinds = stream.Documents.Select(d => ((YamlMappingNode)d.RootNode).Str("kind")).Order().ToArray();
        var expected = Manifests.Value.Where(m => m.Kind != "Kustomization").Select(m => m.Kind).Order().ToArray();
        Assert.Equal(expected, kinds);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static int ImagePort => Image.Value.StartCommand.Parameters.TryGetValue("-Port", out var p)
        ? int.Parse(p, CultureInfo.InvariantCulture) : PlanOptions.DefaultPort;

    private static Manifest Deployment() => Manifests.Value.Single(m => m.Kind == "Deployment");

    private static YamlMappingNode PodSpec() => (YamlMappingNode)Deployment().Root.Child("spec", "template", "spec")!;

    private static YamlMappingNode Container()
    {
        var containers = PodSpec().Seq("containers").Cast<YamlMappingNode>().ToArray();
        return Assert.Single(containers);
    }

    private static Dictionary<string, int> ContainerPorts(YamlMappingNode container) =>
        container.Seq("ports").Cast<YamlMappingNode>().ToDictionary(
            p => p.Str("name") ?? "",
            p => int.Parse(p.Str("containerPort")!, CultureInfo.InvariantCulture));

    private static string[] ContainerArgs(YamlMappingNode container) =>
        container.Child("args") is YamlSequenceNode args ? args.Children.Select(n => ((YamlScalarNode)n).Value!).ToArray() : [];

    /// <summary>A probe or Service port: a number, or the name of a container port.</summary>
    private static int ResolvePort(YamlMappingNode container, string port)
    {
        if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        var ports = ContainerPorts(container);
        Assert.True(ports.ContainsKey(port), $"no container port is named '{port}'");
        return ports[port];
    }

    private sealed record HttpProbe(string Path, string Port, string Scheme);

    private static HttpProbe Probe(YamlMappingNode container, string name)
    {
        var get = container.Child(name, "httpGet") as YamlMappingNode;
        Assert.True(get is not null, $"{name} must be an httpGet probe");
        return new HttpProbe(get!.Str("path")!, get.Str("port")!, get.Str("scheme") ?? "HTTP");
    }

    /// <summary>Kubernetes CPU quantities: "2", "1.5", "1500m".</summary>
    private static double Cpu(string? quantity)
    {
        Assert.NotNull(quantity);
        return quantity!.EndsWith('m')
            ? double.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000
            : double.Parse(quantity, CultureInfo.InvariantCulture);
    }

    /// <summary>The paths the API worker answers itself (its probes), read from its source.</summary>
    private static string[] WorkerProbeRoutes()
    {
        var source = File.ReadAllText(Path.Combine(Root, "src", "Worker", "HttpFrontDoor", "ApiHandler.cs"));
        return Regex.Matches(source, "\"(/[a-z]+)\"\\s*=>\\s*Probe\\(").Select(m => m.Groups[1].Value).Distinct().ToArray();
    }

    /// <summary>Start-ServingHost's parameters: its [Parameter] properties and those of its base classes.</summary>
    private static string[] StartServingHostParameters()
    {
        var names = new List<string>();
        foreach (var file in new[] { "StartServingHostCommand.cs", "PlanningCommandBase.cs" })
        {
            var source = File.ReadAllText(Path.Combine(Root, "src", "Cmdlets", file));
            names.AddRange(Regex.Matches(source, @"\[Parameter[^\]]*\](?:\s*\[[^\]]*\])*\s*public\s+[\w?<>\[\]]+\s+(\w+)\s*\{")
                .Select(m => m.Groups[1].Value));
        }
        // PowerShell's common parameters, which every cmdlet has.
        names.AddRange(new[] { "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "WhatIf", "Confirm" });
        return names.ToArray();
    }

    private sealed record Manifest(string File, YamlMappingNode Root)
    {
        public string? Kind => Root.Str("kind");
        public string? Str(params string[] path) => Root.Str(path);
        public IEnumerable<YamlNode> Seq(params string[] path) => Root.Seq(path);
        public Dictionary<string, string> Map(params string[] path) => Root.Map(path);
    }

    private static IReadOnlyList<Manifest> LoadManifests()
    {
        var list = new List<Manifest>();
        foreach (var file in Directory.GetFiles(KubeDir, "*.yaml").Order())
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file)) stream.Load(reader);
            Assert.NotEmpty(stream.Documents);
            foreach (var doc in stream.Documents)
                list.Add(new Manifest(Path.GetFileName(file), Assert.IsType<YamlMappingNode>(doc.RootNode)));
        }
        return list;
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException($"{file} did not finish in 60 s"); }
        return (p.ExitCode, p.ExitCode == 0 ? stdout : stdout + stderr.Result);
    }

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Cmdlets.sln")))
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("Cmdlets.sln not found above " + AppContext.BaseDirectory);
        return dir;
    }

    /// <summary>Runs when kubectl is on PATH (it is in the project's machine image); skipped otherwise.</summary>
    private sealed class KubectlFactAttribute : FactAttribute
    {
        public KubectlFactAttribute()
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
                .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "kubectl")));
            if (!found) Skip = "kubectl is not installed";
        }
    }

    /// <summary>The Dockerfile's instructions that matter here, with the Start-ServingHost command of its ENTRYPOINT.</summary>
    private sealed record DockerImage(string[] Stages, string[]? Entrypoint, int[] Exposed, string? StopSignal, string? User, string[] Runs)
    {
        public StartCommand StartCommand { get; } = StartCommand.Parse(Entrypoint?[^1] ?? "");

        public static DockerImage Parse(string text)
        {
            // Join continuation lines, drop comments (and the parser directive).
            var joined = Regex.Replace(text, @"\\\r?\n", " ");
            var lines = joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
            var stages = new List<string>();
            string[]? entrypoint = null;
            var exposed = new List<int>();
            string? stop = null, user = null;
            var runs = new List<string>();
            foreach (var line in lines)
            {
                var space = line.IndexOf(' ');
                var (op, rest) = space < 0 ? (line.ToUpperInvariant(), "") : (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
                switch (op)
                {
                    case "FROM": stages.Add(rest.Split(' ')[0]); break;
                    case "ENTRYPOINT":
                        Assert.True(rest.StartsWith('['), "ENTRYPOINT must be in exec form (a JSON array), so pwsh is PID 1 and gets SIGTERM");
                        entrypoint = JsonSerializer.Deserialize<string[]>(rest);
                        break;
                    case "CMD":
                        Assert.True(rest.StartsWith('['), "CMD must be in exec form (a JSON array)");
                        break;
                    case "EXPOSE":
                        exposed.AddRange(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                            .Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)));
                        break;
                    case "STOPSIGNAL": stop = rest; break;
                    case "USER": user = rest; break;
                    case "RUN": runs.Add(rest); break;
                }
            }
            return new DockerImage(stages.ToArray(), entrypoint, exposed.ToArray(), stop, user, runs.ToArray());
        }
    }

    /// <summary>"Start-ServingHost -Wait -Port 3000 ..." split into its switches and named parameters.</summary>
    private sealed record StartCommand(string Text, HashSet<string> Switches, Dictionary<string, string> Parameters)
    {
        private static readonly HashSet<string> KnownSwitches = new(StringComparer.OrdinalIgnoreCase)
            { "-Wait", "-Reload", "-Development", "-Verbose", "-Debug", "-WhatIf", "-Confirm" };

        public static StartCommand Parse(string script)
        {
            var at = script.IndexOf("Start-ServingHost", StringComparison.Ordinal);
            Assert.True(at >= 0, "the image's command does not run Start-ServingHost");
            var text = script[at..].Split(';')[0].Trim();
            var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
            var switches = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < tokens.Length; i++)
            {
                Assert.StartsWith("-", tokens[i]);
                if (KnownSwitches.Contains(tokens[i].Split(':')[0])) switches.Add(tokens[i].Split(':')[0]);
                else
                {
                    Assert.True(i + 1 < tokens.Length, $"{tokens[i]} has no value");
                    parameters[tokens[i]] = tokens[++i].Trim('\'', '"');
                }
            }
            return new StartCommand(text, switches, parameters);
        }
    }
}

/// <summary>Navigation of YamlDotNet's representation model by key paths.</summary>
internal static class YamlPaths
{
    public static YamlNode? Child(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            current = next;
        }
        return current;
    }

    public static string? Str(this YamlNode node, params string[] path) => (node.Child(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Seq(this YamlNode node, params string[] path) =>
        node.Child(path) is YamlSequenceNode seq ? seq.Children : [];

    public static Dictionary<string, string> Map(this YamlNode node, params string[] path) =>
        node.Child(path) is YamlMappingNode map
            ? map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? "")
            : new Dictionary<string, string>();
}
