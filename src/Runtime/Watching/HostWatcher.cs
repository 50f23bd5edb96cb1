namespace Serving.Runtime.Watching;

/// <summary>
/// Watch-ServingHost's view of one host over time: scrapes its <c>/metrics</c> (on the thread pool),
/// keeps the scrape before so rates cover the last interval, and reads its processes' CPU and memory.
/// <see cref="View"/> is called on one thread (the cmdlet's) between scrapes.
/// </summary>
public sealed class HostWatcher : IDisposable
{
    private readonly ServingHost _host;
    private readonly TimeSpan _scrapeTimeout;
    private readonly ProcessSampler _processes = new();
    private readonly object _gate = new();
    private MetricsScraper? _scraper;
    private string _scraperUrl = "";
    private MetricsScrape? _previous, _latest;
    private string? _error;

    public HostWatcher(ServingHost host, TimeSpan scrapeTimeout)
    {
        _host = host;
        _scrapeTimeout = scrapeTimeout;
    }

    public ServingHost Host => _host;

    /// <summary>Scrapes once; a failure is kept as the line the screen shows, never thrown.</summary>
    public async Task ScrapeAsync(CancellationToken cancellation)
    {
        if (_host.State is HostState.Stopped or HostState.Failed)
        {
            lock (_gate) _error = $"not scraped: the host is {_host.State}";
            return;
        }
        var scraper = ScraperFor(_host.Url);
        try
        {
            var scrape = await scraper.ScrapeAsync(cancellation).ConfigureAwait(false);
            lock (_gate)
            {
                _previous = _latest;
                _latest = scrape;
                _error = null;
            }
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            lock (_gate) _error = e is OperationCanceledException ? $"no answer within {_scrapeTimeout.TotalSeconds:0.#} s" : e.Message;
        }
    }

    /// <summary>The host now, with the latest scrape's activity and its processes' CPU % since the last view.</summary>
    public HostWatchView View(int? jobId)
    {
        var info = _host.Snapshot().WithJobId(jobId);
        var usage = new Dictionary<int, ProcessUsage>();
        var pids = info.Workers.Where(w => w.Uptime is not null && w.Pid > 0).Select(w => w.Pid).Append(Environment.ProcessId).ToList();
        foreach (var pid in pids)
            if (_processes.Sample(pid) is { } reading)
                usage[pid] = new ProcessUsage(reading.CpuPercent, reading.Sample.ResidentBytes);
        _processes.Retain(pids);

        MetricsScrape? previous, latest;
        string? error;
        lock (_gate) (previous, latest, error) = (_previous, _latest, _error);
        return new HostWatchView
        {
            Host = info,
            Usage = usage,
            SupervisorPid = Environment.ProcessId,
            Activity = latest is null ? null : HostActivity.Between(previous, latest),
            MetricsError = error,
        };
    }

    private MetricsScraper ScraperFor(string url)
    {
        lock (_gate)
        {
            if (_scraper is null || _scraperUrl != url)
            {
                _scraper?.Dispose();
                _scraper = new MetricsScraper(url, _host.Plan.Protocol, _scrapeTimeout);
                _scraperUrl = url;
            }
            return _scraper;
        }
    }

    public void Dispose()
    {
        lock (_gate) _scraper?.Dispose();
    }
}
