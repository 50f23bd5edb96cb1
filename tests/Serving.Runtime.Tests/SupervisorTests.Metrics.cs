using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>The supervisor's part of /metrics: host.prom in the host's metrics directory, kept up to date.</summary>
public sealed partial class SupervisorTests
{
    private static string HostMetrics(ServingHost host) =>
        File.ReadAllText(Path.Combine(host.Snapshot().SocketDirectory, MetricsFiles.DirectoryName, MetricsFiles.HostFileName));

    [Fact]
    public async Task The_host_metrics_file_shows_every_worker_up_and_follows_a_respawn()
    {
        var host = NewHost(respawn: true);
        await host.StartAsync(null, CancellationToken.None);
        await Poll.Until(() => HostMetrics(host).Contains("serving_worker_up{worker=\"api-2\",role=\"api\"} 1"), "api-2 up in host.prom");
        var text = HostMetrics(host);
        Assert.Contains("serving_host_generation 1\n", text);
        Assert.Contains("serving_worker_up{worker=\"echo-1\",role=\"runner\"} 1\n", text);
        Assert.Contains("serving_worker_restarts_total{worker=\"echo-1\",role=\"runner\"} 0\n", text);
        Assert.Contains("serving_host_info{host=\"t\",service=\"demo\",protocol=\"http\",mode=\"production\"} 1\n", text);

        _launcher.Live("echo-1").Single().Exit(137);
        await Poll.Until(() => HostMetrics(host).Contains("serving_worker_restarts_total{worker=\"echo-1\",role=\"runner\"} 1\n")
            && HostMetrics(host).Contains("serving_worker_up{worker=\"echo-1\",role=\"runner\"} 1\n"), "echo-1 respawned in host.prom");
    }

    [Fact]
    public void Host_metrics_text_escapes_label_values()
    {
        var text = HostMetricsText.Render(new HostInfo
        {
            Name = "a\"b\\c",
            Service = "s",
            Generation = 4,
            Workers = [new WorkerInfo { Name = "api-1", Role = WorkerRole.Api, State = WorkerState.Backoff, Restarts = 3 }],
        });
        Assert.Contains("host=\"a\\\"b\\\\c\"", text);
        Assert.Contains("serving_host_generation 4\n", text);
        Assert.Contains("serving_worker_up{worker=\"api-1\",role=\"api\"} 0\n", text);
        Assert.Contains("serving_worker_restarts_total{worker=\"api-1\",role=\"api\"} 3\n", text);
        Assert.Contains("serving_worker_state{worker=\"api-1\",role=\"api\",state=\"backoff\"} 1\n", text);
        Assert.Contains("serving_worker_state{worker=\"api-1\",role=\"api\",state=\"running\"} 0\n", text);
    }
}
