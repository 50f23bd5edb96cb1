using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Serving.Worker.Hosting;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>host.json <c>tuning</c>: the workers' tunables as the supervisor writes them (every key, camelCase).</summary>
public class WorkerTuningTests
{
    private static void WriteTuning(TestHost host, JsonObject? tuning)
    {
        host.WriteConfig();
        var config = JsonNode.Parse(File.ReadAllText(host.ConfigPath))!.AsObject();
        if (tuning is not null)
            config["tuning"] = tuning;
        File.WriteAllText(host.ConfigPath, config.ToJsonString());
    }

    [Fact]
    public void Absent_keys_keep_the_defaults_and_given_ones_are_read()
    {
        using var host = new TestHost();
        WriteTuning(host, null);
        var defaults = HostConfig.Load(host.ConfigPath).Tuning;
        Assert.Equal(5_000, defaults.RunnerConnectTimeoutMs);
        Assert.Equal(50, defaults.DeadlineSweepMs);
        Assert.Equal(16, defaults.BatchQueueBatches);

        WriteTuning(host, new JsonObject { ["deadlineSweepMs"] = 10, ["connectionsPerRunnerWorker"] = 3, ["maxConnectionsPerRunner"] = 8 });
        var tuning = HostConfig.Load(host.ConfigPath).Tuning;
        Assert.Equal(10, tuning.DeadlineSweepMs);
        Assert.Equal(5_000, tuning.RunnerConnectTimeoutMs);
        // One connection to a runner with one worker (calls are multiplexed); per worker, up to the bound, for more.
        Assert.Equal(1, tuning.ConnectionsTo(1));
        Assert.Equal(6, tuning.ConnectionsTo(2));
        Assert.Equal(8, tuning.ConnectionsTo(5));
    }

    [Theory]
    [InlineData("deadlineSweepMs", 0, "host.json: tuning.deadlineSweepMs must be between 1 and 10000; got 0")]
    [InlineData("batchQueueBatches", 2000, "host.json: tuning.batchQueueBatches must be between 1 and 1024; got 2000")]
    [InlineData("runnerHelloTimeoutMs", 5, "host.json: tuning.runnerHelloTimeoutMs must be between 100 and 600000; got 5")]
    public void A_value_out_of_range_is_a_bad_host_json(string key, int value, string message)
    {
        using var host = new TestHost();
        WriteTuning(host, new JsonObject { [key] = value });
        Assert.Equal(message, Assert.Throws<ConfigException>(() => HostConfig.Load(host.ConfigPath)).Message);
    }

    [Fact]
    public async Task A_runner_worker_refuses_a_silent_connection_after_its_hello_timeout()
    {
        using var host = new TestHost();
        WriteTuning(host, new JsonObject { ["runnerHelloTimeoutMs"] = 300 });
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();
        using var wire = await RunnerWire.UnixAsync(host.SocketPath);
        var watch = Stopwatch.StartNew();
        var (type, _, payload) = await wire.ReadFrameAsync();
        Assert.Equal(RunnerWire.Error, type);
        Assert.Equal("no hello within 0.3 s", Encoding.UTF8.GetString(payload));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refused after {watch.ElapsedMilliseconds} ms (the default is 10 s)");
        Assert.True(await wire.ClosedAsync());
    }
}
