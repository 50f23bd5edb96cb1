using System.Collections;
using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>New-ServingService's files, and a manifest that names a project instead of assemblies.</summary>
public sealed class ServiceScaffoldTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "scaffold-" + Guid.NewGuid().ToString("N")[..8]);

    public ServiceScaffoldTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData("mysvc", "mysvc")]
    [InlineData("My Service", "my-service")]
    [InlineData("_x", "x")]
    [InlineData("42", "42")]
    [InlineData("###", "svc")]
    public void A_directory_name_becomes_a_valid_service_name(string directory, string name) =>
        Assert.Equal(name, ServiceScaffold.NameFrom(directory));

    [Theory]
    [InlineData("my-svc", "MySvc")]
    [InlineData("fraud_scorer", "FraudScorer")]
    [InlineData("42x", "S42x")]
    public void Names_become_csharp_identifiers(string name, string identifier) =>
        Assert.Equal(identifier, ServiceScaffold.Pascal(name));

    [Fact]
    public void The_manifest_it_writes_parses_and_names_its_project_and_runner_type()
    {
        var files = ServiceScaffold.Files("my-svc", "scorer", "/opt/serving/lib/Serving.Abstractions.dll");
        foreach (var (path, content) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_temp, path))!);
            File.WriteAllText(Path.Combine(_temp, path), content);
        }
        var data = new Hashtable
        {
            ["Name"] = "my-svc",
            ["Project"] = "src/MySvc.Runners.csproj",
            ["Runners"] = new object[] { new Hashtable { ["Name"] = "scorer", ["Type"] = "MySvc.Runners.ScorerRunner" } },
            ["Apis"] = new object[] { new Hashtable { ["Route"] = "/predict", ["Runner"] = "scorer", ["Method"] = "predict" } },
        };
        var service = ServiceManifest.Parse(data, Path.Combine(_temp, "my-svc.psd1"));
        Assert.Equal(Path.Combine(_temp, "src", "MySvc.Runners.csproj"), service.Project);
        Assert.Empty(service.Assemblies);
        Assert.Equal("MySvc.Runners", ServiceProjectBuilder.AssemblyName(service.Project!));
        var manifest = files.Single(f => f.Path == "my-svc.psd1").Content;
        Assert.Contains("Project = 'src/MySvc.Runners.csproj'", manifest);
        Assert.Contains("Type = 'MySvc.Runners.ScorerRunner'", manifest);
        Assert.Contains("/opt/serving/lib/Serving.Abstractions.dll", files.Single(f => f.Path.EndsWith(".csproj")).Content);
    }

    [Fact]
    public void A_project_that_is_missing_or_not_a_project_is_refused_and_assemblies_are_then_required()
    {
        Hashtable Manifest(object? project) => new()
        {
            ["Name"] = "s",
            ["Project"] = project,
            ["Runners"] = new object[] { new Hashtable { ["Name"] = "r", ["Type"] = "T" } },
            ["Apis"] = new object[] { new Hashtable { ["Route"] = "/p", ["Runner"] = "r", ["Method"] = "m" } },
        };
        var path = Path.Combine(_temp, "s.psd1");
        Assert.Contains("does not exist", Assert.Throws<ServingException>(() => ServiceManifest.Parse(Manifest("src/Nope.csproj"), path)).Message);
        File.WriteAllText(Path.Combine(_temp, "notes.txt"), "");
        Assert.Contains("is not a project file", Assert.Throws<ServingException>(() => ServiceManifest.Parse(Manifest("notes.txt"), path)).Message);
        var noAssemblies = Manifest(null);
        noAssemblies.Remove("Project");
        Assert.Contains("Assemblies", Assert.Throws<ServingException>(() => ServiceManifest.Parse(noAssemblies, path)).Message);
    }

    [Theory]
    [InlineData("/svc/Runner.cs(3,5): error CS0103: The name 'x' does not exist [/svc/svc.csproj]", LogLevel.Error)]
    [InlineData("Build FAILED.", LogLevel.Error)]
    [InlineData("/svc/Runner.cs(9,1): warning CS8618: Non-nullable property 'Name' [/svc/svc.csproj]", LogLevel.Warning)]
    [InlineData("  svc -> /svc/bin/Release/net8.0/svc.dll", LogLevel.Information)]
    [InlineData("    0 Error(s)", LogLevel.Information)]
    public void A_build_line_has_the_level_msbuild_means_by_it(string line, LogLevel level) =>
        Assert.Equal(level, ServiceProjectBuilder.LineLevel(line));
}
