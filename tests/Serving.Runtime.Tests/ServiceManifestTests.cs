using System.Collections;
using Xunit;

namespace Serving.Runtime.Tests;

public sealed class ServiceManifestTests
{
    private const string File = "/svc/service.psd1";

    private static Hashtable Valid() => new()
    {
        ["Name"] = "demo",
        ["Assemblies"] = new object[] { "bin/My.dll" },
        ["Runners"] = new object[]
        {
            new Hashtable { ["Name"] = "echo", ["Type"] = "My.Echo", ["Workers"] = 2,
                ["Environment"] = new Hashtable { ["A"] = "1" },
                ["WorkerEnvironment"] = new object[] { new Hashtable { ["DEVICE"] = "0" }, new Hashtable { ["DEVICE"] = "1" } } },
        },
        ["Apis"] = new object[]
        {
            new Hashtable { ["Route"] = "/echo", ["Runner"] = "echo", ["Method"] = "echo", ["Input"] = "Bytes", ["Output"] = "Text" },
        },
    };

    [Fact]
    public void A_valid_manifest_becomes_a_definition_with_absolute_paths()
    {
        var d = ServiceManifest.Parse(Valid(), File);
        Assert.Equal("demo", d.Name);
        Assert.Equal("/svc/bin/My.dll", d.Assemblies.Single());
        Assert.Equal("/svc", d.Directory);
        var r = d.Runners.Single();
        Assert.Equal(2, r.Workers);
        Assert.Equal("1", r.Environment["A"]);
        Assert.Equal("1", r.WorkerEnvironment[1]["DEVICE"]);
        var api = d.Apis.Single();
        Assert.Equal(PayloadKind.Bytes, api.Input);
        Assert.Equal(PayloadKind.Text, api.Output);
    }

    [Fact]
    public void Batching_overrides_are_optional_and_read_when_given()
    {
        var d = ServiceManifest.Parse(Valid(), File);
        Assert.Null(d.Apis[0].MaxBatchSize);
        Assert.Null(d.Apis[0].MaxLatencyMs);

        var m = Valid();
        Api(m)["maxbatchsize"] = 1;
        Api(m)["MaxLatencyMs"] = 0;
        d = ServiceManifest.Parse(m, File);
        Assert.Equal(1, d.Apis[0].MaxBatchSize);
        Assert.Equal(0, d.Apis[0].MaxLatencyMs);

        m = Valid();
        Api(m)["MaxBatchSize"] = 4096L;
        Api(m)["MaxLatencyMs"] = 60000.0;
        d = ServiceManifest.Parse(m, File);
        Assert.Equal(4096, d.Apis[0].MaxBatchSize);
        Assert.Equal(60000, d.Apis[0].MaxLatencyMs);
    }

    [Fact]
    public void Keys_are_case_insensitive_and_kinds_default_to_json()
    {
        var m = Valid();
        ((Hashtable)((object[])m["Apis"]!)[0]).Remove("Input");
        var d = ServiceManifest.Parse(m, File);
        Assert.Equal(PayloadKind.Json, d.Apis[0].Input);
    }

    public static TheoryData<string, Action<Hashtable>, string, string> Broken => new()
    {
        { "unknown top key", m => m["Colour"] = "red", ErrorIds.InvalidServiceManifest, "unknown key 'Colour'" },
        { "unknown runner key", m => Runner(m)["Gpu"] = true, ErrorIds.InvalidServiceManifest, "unknown key 'Gpu'" },
        { "unknown api key", m => Api(m)["Verb"] = "GET", ErrorIds.InvalidServiceManifest, "unknown key 'Verb'" },
        { "no name", m => m.Remove("Name"), ErrorIds.InvalidServiceManifest, "needs Name" },
        { "bad name", m => m["Name"] = "My Service", ErrorIds.InvalidServiceManifest, "Name 'My Service'" },
        { "no assemblies", m => m["Assemblies"] = Array.Empty<object>(), ErrorIds.InvalidServiceManifest, "Assemblies is empty" },
        { "no runners", m => m["Runners"] = Array.Empty<object>(), ErrorIds.InvalidServiceManifest, "Runners is empty" },
        { "no apis", m => m["Apis"] = Array.Empty<object>(), ErrorIds.InvalidServiceManifest, "Apis is empty" },
        { "runner twice", m => m["Runners"] = new object[] { Runner(m), Runner(m) }, ErrorIds.InvalidServiceManifest, "declared twice" },
        { "zero workers", m => Runner(m)["Workers"] = 0, ErrorIds.InvalidServiceManifest, "Workers must be between 1 and 256" },
        { "too many worker envs", m => Runner(m)["Workers"] = 1, ErrorIds.InvalidServiceManifest, "WorkerEnvironment has 2 entries" },
        { "unknown runner", m => Api(m)["Runner"] = "nope", ErrorIds.InvalidServiceManifest, "names the runner 'nope'" },
        { "route without slash", m => Api(m)["Route"] = "echo", ErrorIds.InvalidServiceManifest, "must start with '/'" },
        { "reserved route", m => Api(m)["Route"] = "/readyz", ErrorIds.InvalidServiceManifest, "reserved" },
        { "bad kind", m => Api(m)["Input"] = "Xml", ErrorIds.InvalidServiceManifest, "'Xml' is not one of Json, Text, Bytes" },
        { "duplicate route", m => m["Apis"] = new object[] { Api(m), Api(m) }, ErrorIds.DuplicateRoute, "both claim the route '/echo'" },
        { "batch size 0", m => Api(m)["MaxBatchSize"] = 0, ErrorIds.InvalidServiceManifest, "API '/echo': MaxBatchSize must be an integer from 1 to 4096 (1 turns batching off for this API); got 0." },
        { "batch size too large", m => Api(m)["MaxBatchSize"] = 4097, ErrorIds.InvalidServiceManifest, "MaxBatchSize must be an integer from 1 to 4096" },
        { "batch size a string", m => Api(m)["MaxBatchSize"] = "64", ErrorIds.InvalidServiceManifest, "MaxBatchSize must be an integer from 1 to 4096 (1 turns batching off for this API); got '64'." },
        { "batch size a fraction", m => Api(m)["MaxBatchSize"] = 2.5, ErrorIds.InvalidServiceManifest, "MaxBatchSize must be an integer" },
        { "batch size a list", m => Api(m)["MaxBatchSize"] = new object[] { 1 }, ErrorIds.InvalidServiceManifest, "MaxBatchSize must be an integer" },
        { "latency negative", m => Api(m)["MaxLatencyMs"] = -1, ErrorIds.InvalidServiceManifest, "API '/echo': MaxLatencyMs must be an integer from 0 to 60000 (milliseconds); got -1." },
        { "latency too long", m => Api(m)["MaxLatencyMs"] = 60001L, ErrorIds.InvalidServiceManifest, "MaxLatencyMs must be an integer from 0 to 60000" },
        { "latency a boolean", m => Api(m)["MaxLatencyMs"] = true, ErrorIds.InvalidServiceManifest, "MaxLatencyMs must be an integer" },
        { "duplicate route differing in case", m => m["Apis"] = new object[] { Api(m), new Hashtable { ["Route"] = "/ECHO", ["Runner"] = "echo", ["Method"] = "echo" } }, ErrorIds.DuplicateRoute, "/ECHO" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_manifest_is_an_error_naming_the_file_and_entry(string why, Action<Hashtable> breakIt, string errorId, string text)
    {
        var m = Valid();
        breakIt(m);
        var e = Assert.Throws<ServingException>(() => ServiceManifest.Parse(m, File));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains(File, e.Message);
        Assert.True(e.Message.Contains(text, StringComparison.Ordinal), $"{why}: '{e.Message}' should contain '{text}'");
    }

    private static Hashtable Runner(Hashtable m) => (Hashtable)((object[])m["Runners"]!)[0];
    private static Hashtable Api(Hashtable m) => (Hashtable)((object[])m["Apis"]!)[0];
}

public sealed class ServiceAssemblyInspectorTests
{
    // The runtime tests do not reference Serving.Abstractions; the fixture runner assembly does.
    private static string FixtureAssembly()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "Fixtures")))
            dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine(dir!.FullName, "tests", "Fixtures", "CustomRunner", "bin", "Serving.Fixture.CustomRunner.dll");
    }

    private static ServiceDefinition Service(string type, string method, string? assembly = null, int? maxBatchSize = null) => new()
    {
        Name = "fixture",
        ManifestPath = "/svc/Fixture.psd1",
        Assemblies = new[] { assembly ?? FixtureAssembly() },
        Runners = new[] { new RunnerDefinition { Name = "text", Type = type } },
        Apis = new[] { new ApiDefinition { Route = "/x", Runner = "text", Method = method, MaxBatchSize = maxBatchSize } },
    };

    [Fact]
    public void A_batching_override_on_a_method_that_is_not_batchable_is_refused_before_anything_starts()
    {
        ServiceAssemblyInspector.Verify(Service("Serving.Fixture.TextRunner", "upperall", maxBatchSize: 8));
        ServiceAssemblyInspector.Verify(Service("Serving.Fixture.TextRunner", "UpperAll", maxBatchSize: 1));
        var e = Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(Service("Serving.Fixture.TextRunner", "reverse", maxBatchSize: 8)));
        Assert.Equal(ErrorIds.InvalidServiceManifest, e.ErrorId);
        Assert.Contains("API '/x' sets MaxBatchSize, but method 'reverse' of 'Serving.Fixture.TextRunner' is not batchable", e.Message);
    }

    [Fact]
    public void Finds_runner_types_and_their_methods_without_loading_the_assembly()
    {
        var verified = ServiceAssemblyInspector.Verify(Service("Serving.Fixture.TextRunner", "reverse"));
        // Batchable: one of its methods (upperall) takes batches, though this API calls another.
        Assert.True(verified.Runners.Single().Batchable);
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "Serving.Fixture.CustomRunner");
    }

    [Fact]
    public void A_missing_assembly_is_ServiceAssemblyNotFound()
    {
        var e = Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(Service("X", "y", "/nowhere/Missing.dll")));
        Assert.Equal(ErrorIds.ServiceAssemblyNotFound, e.ErrorId);
        Assert.Contains("/nowhere/Missing.dll", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_is_ServiceAssemblyNotFound()
    {
        var path = Path.GetTempFileName();
        try
        {
            System.IO.File.WriteAllText(path, "not a PE file");
            Assert.Equal(ErrorIds.ServiceAssemblyNotFound,
                Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(Service("X", "y", path))).ErrorId);
        }
        finally { System.IO.File.Delete(path); }
    }

    [Fact]
    public void An_unknown_type_is_RunnerTypeNotFound()
    {
        var e = Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(Service("Serving.Fixture.Nope", "reverse")));
        Assert.Equal(ErrorIds.RunnerTypeNotFound, e.ErrorId);
        Assert.Contains("Serving.Fixture.Nope", e.Message);
    }

    [Fact]
    public void An_unknown_method_is_RunnerTypeNotFound_listing_the_methods()
    {
        var e = Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(Service("Serving.Fixture.TextRunner", "shout")));
        Assert.Equal(ErrorIds.RunnerTypeNotFound, e.ErrorId);
        foreach (var m in new[] { "reverse", "sum", "fail", "slow", "env" }) Assert.Contains(m, e.Message);
    }
}
