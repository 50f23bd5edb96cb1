using System.Text.Json.Nodes;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>The manifest's batching override as the worker reads it: host.json apis[] maxBatchSize / maxLatencyMs.</summary>
public class BatchingConfigTests
{
    /// <summary>Writes the test host's host.json with <paramref name="change"/> applied to its first API.</summary>
    private static void WriteConfig(TestHost host, Action<JsonObject> change, IEnumerable<(string Route, string Method, string Input, string Output)>? apis = null)
    {
        host.WriteConfig(apis: apis);
        var config = JsonNode.Parse(File.ReadAllText(host.ConfigPath))!.AsObject();
        change(config["service"]!["apis"]![0]!.AsObject());
        File.WriteAllText(host.ConfigPath, config.ToJsonString());
    }

    [Fact]
    public void Overrides_are_read_and_absent_ones_are_null()
    {
        using var host = new TestHost();
        WriteConfig(host, api => { api["maxBatchSize"] = 1; api["maxLatencyMs"] = 0; });
        var config = HostConfig.Load(host.ConfigPath);
        Assert.Equal(1, config.Service!.Apis![0].MaxBatchSize);
        Assert.Equal(0, config.Service.Apis[0].MaxLatencyMs);
        Assert.Null(config.Service.Apis[1].MaxBatchSize);
        Assert.Null(config.Service.Apis[1].MaxLatencyMs);
    }

    [Theory]
    [InlineData("maxBatchSize", 0, "host.json: API '/echo': 'maxBatchSize' must be between 1 and 4096")]
    [InlineData("maxBatchSize", 4097, "host.json: API '/echo': 'maxBatchSize' must be between 1 and 4096")]
    [InlineData("maxLatencyMs", -1, "host.json: API '/echo': 'maxLatencyMs' must be between 0 and 60000")]
    [InlineData("maxLatencyMs", 60001, "host.json: API '/echo': 'maxLatencyMs' must be between 0 and 60000")]
    public void Overrides_out_of_range_are_a_bad_host_json(string key, int value, string message)
    {
        using var host = new TestHost();
        WriteConfig(host, api => api[key] = value);
        Assert.Equal(message, Assert.Throws<ConfigException>(() => HostConfig.Load(host.ConfigPath)).Message);
    }

    [Fact]
    public void An_override_on_a_method_that_is_not_batchable_fails_the_load()
    {
        using var host = new TestHost();
        var runner = new LoadedRunner(TestHost.RunnerName, new BatchRunner(), MethodBinder.BindAll(new BatchRunner(), TestHost.RunnerName));

        WriteConfig(host, api => api["maxBatchSize"] = 8, apis: [("/one", "single", "Json", "Json"), ("/many", "square", "Json", "Json")]);
        var ex = Assert.Throws<ServiceLoadException>(() => runner.CheckApis(HostConfig.Load(host.ConfigPath)));
        Assert.Equal("API '/one' sets MaxBatchSize, but method 'single' of runner 'test' is not batchable; " +
            "mark it [RunnerMethod(Batchable = true)] (taking and returning lists) or remove the setting from the manifest", ex.Message);

        WriteConfig(host, api => { api["maxBatchSize"] = 8; api["maxLatencyMs"] = 2; }, apis: [("/one", "single", "Json", "Json")]);
        Assert.Contains("sets MaxBatchSize and MaxLatencyMs", Assert.Throws<ServiceLoadException>(() => runner.CheckApis(HostConfig.Load(host.ConfigPath))).Message);

        // On a batchable method it is fine, and it is what the API's dispatcher uses.
        WriteConfig(host, api => { api["maxBatchSize"] = 8; api["maxLatencyMs"] = 2; }, apis: [("/many", "square", "Json", "Json")]);
        var config = HostConfig.Load(host.ConfigPath);
        runner.CheckApis(config);
        var options = BatchingOptions.For(runner.Methods["square"], config.Service!.Apis![0]);
        Assert.Equal(new BatchingOptions(8, TimeSpan.FromMilliseconds(2), 8 * new WorkerTuning().BatchQueueBatches), options);
        Assert.Equal(new BatchingOptions(64, TimeSpan.FromMilliseconds(10), 64 * new WorkerTuning().BatchQueueBatches), BatchingOptions.For(runner.Methods["square"]));
    }

    [Fact]
    public async Task A_runner_worker_with_such_an_override_exits_3()
    {
        using var host = new TestHost();
        WriteConfig(host, api => api["maxLatencyMs"] = 5);
        var worker = host.StartRunner();
        var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(exit == 3, $"exit {exit}:\n{worker.Output}");
        Assert.Contains(worker.Lines, l => l.StartsWith("[err] ") && l.Contains("API '/echo' sets MaxLatencyMs, but method 'echo' of runner 'test' is not batchable"));
    }
}
