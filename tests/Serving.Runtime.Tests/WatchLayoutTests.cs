using Xunit;

namespace Serving.Runtime.Tests;

public class WatchLayoutTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static HostWatchView View(ServingProtocol protocol = ServingProtocol.Http, int apis = 1)
    {
        var host = new HostInfo
        {
            Name = "demo",
            Id = 1,
            State = HostState.Running,
            Service = "demo",
            Protocol = protocol,
            Url = "http://127.0.0.1:3000",
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
            Workers =
            [
                new WorkerInfo { Name = "classifier-1", Role = WorkerRole.Runner, Runner = "classifier", Pid = 101, State = WorkerState.Running, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5), Generation = 1 },
                new WorkerInfo { Name = "api-1", Role = WorkerRole.Api, Pid = 102, State = WorkerState.Running, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5), Generation = 1, Restarts = 2 },
                new WorkerInfo { Name = "api-2", Role = WorkerRole.Api, Pid = 103, State = WorkerState.Backoff, Generation = 1 },
            ],
            Runners = [new RunnerInfo { Name = "classifier", Workers = 1 }],
        }.WithJobId(7);
        return new HostWatchView
        {
            Host = host,
            SupervisorPid = 100,
            Usage = new Dictionary<int, ProcessUsage> { [100] = new(1.5, 150L << 20), [101] = new(null, 60L << 20), [102] = new(25.25, 70L << 20) },
            Activity = new HostActivity
            {
                Apis = Enumerable.Range(1, apis).Select(i => new ApiActivity { Api = $"/route-{i}", Protocol = "http", Requests = 1234, RequestsPerSecond = 12.5, ErrorShare = 0.02, P50Ms = 1.5, P99Ms = 42.25, MeanMs = 3, InProgress = 1 }).ToArray(),
                Runners = [new RunnerActivity { Runner = "classifier", Calls = 1234, CallsPerSecond = 12.5, CallP99Ms = 40, MeanBatchSize = 2.5, LifetimeMeanBatchSize = 1.75, QueueWaitP99Ms = 0.5, Shed = 0, ShedPerSecond = 0 }],
            },
        };
    }

    private static string Screen(IReadOnlyList<ScreenLine> lines) => string.Join("\n", lines.Select(l => l.Text));

    [Fact]
    public void Shows_the_host_every_worker_the_supervisor_apis_and_runners()
    {
        var lines = WatchLayout.Render([View()], 200, 50, TimeSpan.FromSeconds(1), Now);
        var text = Screen(lines);
        Assert.StartsWith("demo   http://127.0.0.1:3000   Running   gen 1   up 00:0", lines[0].Text);
        Assert.Contains("job 7", lines[0].Text);
        Assert.Matches(@"supervisor\s+pwsh\s+100\s+1\.5\s+150\.0M", text);
        Assert.Matches(@"classifier-1\s+runner\s+101\s+Running\s+1\s+0\s+00:0[45]:\d\d\s+-\s+60\.0M", text);
        Assert.Matches(@"api-1\s+api\s+102\s+Running\s+1\s+2\s+00:0[45]:\d\d\s+25\.3\s+70\.0M", text);
        // Not running: no uptime, no usage.
        Assert.Matches(@"api-2\s+api\s+103\s+Backoff\s+1\s+0\s+-\s*(\n|$)", text);
        Assert.Matches(@"/route-1\s+http\s+12\.5\s+2\.0\s+1\.50\s+42\.3\s+3\.00\s+1\s+1234", text);
        Assert.Matches(@"classifier\s+1\s+12\.5\s+40\.0\s+2\.5\s+1\.8\s+0\.50\s+0\.0\s+0\s+1234", text);
        Assert.StartsWith("q: quit", lines[^1].Text);
        Assert.Equal(LineStyle.Warning, lines.Single(l => l.Text.StartsWith("api-2", StringComparison.Ordinal)).Style);
    }

    [Fact]
    public void A_grpc_host_says_its_url_needs_http2()
    {
        var lines = WatchLayout.Render([View(ServingProtocol.Grpc)], 200, 50, TimeSpan.FromSeconds(1), Now);
        Assert.Contains("http://127.0.0.1:3000 (gRPC: HTTP/2 only, h2c)", lines[0].Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(37)]
    [InlineData(80)]
    public void Every_line_is_cut_to_the_width_never_wrapped(int width)
    {
        // One view for both (its uptimes are the snapshot's).
        var view = View();
        var lines = WatchLayout.Render([view], width, 50, TimeSpan.FromSeconds(1), Now);
        Assert.All(lines, l => Assert.True(l.Text.Length <= width, $"'{l.Text}' is longer than {width}"));
        var wide = WatchLayout.Render([view], 500, 50, TimeSpan.FromSeconds(1), Now);
        // Cut, not wrapped: the same number of lines, each the start of the wide one.
        Assert.Equal(wide.Count, lines.Count);
        for (var i = 0; i < lines.Count; i++) Assert.StartsWith(lines[i].Text, wide[i].Text);
    }

    [Fact]
    public void A_screen_taller_than_the_window_says_what_did_not_fit_and_keeps_the_footer()
    {
        var lines = WatchLayout.Render([View(apis: 30)], 120, 12, TimeSpan.FromSeconds(1), Now);
        Assert.Equal(12, lines.Count);
        Assert.Matches(@"^\.\.\. \d+ more lines: enlarge the window$", lines[^2].Text);
        Assert.StartsWith("q: quit", lines[^1].Text);
        Assert.Single(WatchLayout.Render([View()], 120, 1, TimeSpan.FromSeconds(1), Now));
    }

    [Fact]
    public void Before_the_first_scrape_and_after_a_failed_one_it_says_so()
    {
        var waiting = Screen(WatchLayout.Render([View() with { Activity = null }], 120, 50, TimeSpan.FromSeconds(1), Now));
        Assert.Contains("/metrics: waiting for the first scrape", waiting);
        var failed = Screen(WatchLayout.Render([View() with { MetricsError = "Connection refused" }], 120, 50, TimeSpan.FromSeconds(1), Now));
        Assert.Contains("/metrics: Connection refused", failed);
        Assert.Contains("/route-1", failed);
    }

    [Fact]
    public void Control_characters_in_names_do_not_reach_the_terminal()
    {
        Assert.Equal("a b", WatchLayout.Fit("a\u001bb", 10));
        Assert.Equal("a b", WatchLayout.Fit("a\nb", 10));
    }

    [Theory]
    [InlineData(0, "00:00:00")]
    [InlineData(3725, "01:02:05")]
    [InlineData(90061, "1d 01:01:01")]
    public void Durations(int seconds, string text) => Assert.Equal(text, WatchLayout.Duration(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(512L * 1024, "512K")]
    [InlineData(40L * 1024 * 1024 + 104858, "40.1M")]
    [InlineData(1342177280L, "1.25G")]
    public void Memory(long bytes, string text) => Assert.Equal(text, WatchLayout.Bytes(bytes));
}
