using Xunit;

namespace Serving.Runtime.Tests;

public class HostInfoTests
{
    [Fact]
    public void Uptime_is_null_before_the_start_and_ends_with_the_stop()
    {
        Assert.Null(new HostInfo().Uptime);
        var started = DateTimeOffset.UtcNow.AddMinutes(-3);
        var running = new HostInfo { StartedAt = started };
        Assert.InRange(running.Uptime!.Value, TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(3.1));
        Assert.Equal(TimeSpan.FromSeconds(90), new HostInfo { StartedAt = started, StoppedAt = started.AddSeconds(90) }.Uptime);
    }

    [Fact]
    public void Uptime_is_the_snapshots_not_whenever_it_is_read()
    {
        var info = new HostInfo { StartedAt = DateTimeOffset.UtcNow.AddSeconds(-1) };
        var first = info.Uptime;
        Thread.Sleep(20);
        Assert.Equal(first, info.Uptime);
    }

    [Fact]
    public void A_worker_has_an_uptime_only_while_a_process_of_it_runs()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-30);
        Assert.NotNull(new WorkerInfo { State = WorkerState.Running, StartedAt = started }.Uptime);
        Assert.Null(new WorkerInfo { State = WorkerState.Backoff, StartedAt = started }.Uptime);
        Assert.Null(new WorkerInfo { State = WorkerState.Running }.Uptime);
    }

    [Fact]
    public void WithJobId_copies_the_snapshot_and_sets_only_the_job()
    {
        var info = new HostInfo { Name = "demo", Id = 3, Url = "http://127.0.0.1:1" };
        var withJob = info.WithJobId(12);
        Assert.Null(info.JobId);
        Assert.Equal(12, withJob.JobId);
        Assert.Equal(("demo", 3, "http://127.0.0.1:1"), (withJob.Name, withJob.Id, withJob.Url));
    }

    [Fact]
    public void A_grpc_host_says_its_port_speaks_http2_only()
    {
        Assert.Equal(new Version(2, 0), new HostInfo { Protocol = ServingProtocol.Grpc }.HttpVersion);
        Assert.Equal(new Version(1, 1), new HostInfo { Protocol = ServingProtocol.Http }.HttpVersion);
    }
}
