using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Shows a live view of serving hosts in the terminal: workers' CPU and memory, request rates, errors, latency and batching, refreshed until q or Ctrl+C.</para>
/// </summary>
[Cmdlet(VerbsCommon.Watch, "ServingHost", DefaultParameterSetName = NameSet)]
[OutputType(typeof(void))]
public sealed class WatchServingHostCommand : HostViewCommandBase
{
    /// <summary>Seconds between refreshes. Default 1.</summary>
    [Parameter][ValidateRange(0.2, 3600)] public double RefreshInterval { get; set; } = 1;

    protected override void BeginProcessing()
    {
        // A live screen needs a terminal to draw on and a keyboard to read q from; redirected, the
        // escape sequences would end up in a file. Scripts want Get-ServingHost's objects instead.
        string? why = Console.IsOutputRedirected ? "its output is redirected"
            : Console.IsInputRedirected ? "its input is redirected (q could not be read)"
            : null;
        if (why is not null)
            ThrowTerminatingError(ErrorRecords.From(ErrorIds.WatchRequiresTerminal, ErrorCategory.InvalidOperation,
                $"Watch-ServingHost draws a live screen and needs a terminal, but {why}. In scripts and logs use Get-ServingHost " +
                "(Uptime, Workers, Runners) and the hosts' /metrics instead.", null));
    }

    protected override void EndProcessing()
    {
        if (Hosts.Count == 0)
        {
            if (!SelectionFailed)
                WriteError(HostSelection.NotFound("to watch (start one with Start-ServingHost)"));
            return;
        }
        var interval = TimeSpan.FromSeconds(RefreshInterval);
        var watchers = Hosts.Select(h => new HostWatcher(h, TimeSpan.FromSeconds(Math.Clamp(RefreshInterval, 1, 5)))).ToList();
        var color = TerminalFrame.ColorAllowed(Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"));
        Write(TerminalFrame.Enter);
        try
        {
            Watch(watchers, interval, color);
        }
        finally
        {
            // Always give the user's screen back: after q, Ctrl+C or an exception alike.
            Write(TerminalFrame.Leave);
            StopSource.Cancel(); // scrapes still under way end now
            foreach (var w in watchers) w.Dispose();
            StopSource.Dispose();
        }
    }

    /// <summary>Scrape (thread pool), draw (this thread), wait while reading keys; until q or Ctrl+C.</summary>
    private void Watch(List<HostWatcher> watchers, TimeSpan interval, bool color)
    {
        var token = StopSource.Token;
        while (!token.IsCancellationRequested)
        {
            var tickEnd = DateTime.UtcNow + interval;
            var scrape = Task.WhenAll(watchers.Select(w => Task.Run(() => w.ScrapeAsync(token), token)));
            // Draw when every scrape answered (or failed); keys are read meanwhile.
            if (!WaitReadingKeys(() => scrape.IsCompleted, DateTime.MaxValue, null)) return;
            var size = Draw(watchers, interval, color);
            while (DateTime.UtcNow < tickEnd)
            {
                if (!WaitReadingKeys(() => false, tickEnd, size)) return;
                // The window was resized: draw again at once for the new size.
                if (WindowSize() != size) size = Draw(watchers, interval, color);
            }
        }
    }

    private (int Width, int Height) Draw(List<HostWatcher> watchers, TimeSpan interval, bool color)
    {
        var size = WindowSize();
        var views = watchers.Select(w => w.View(HostSnapshots.JobOf(w.Host, JobRepository)?.Id)).ToList();
        var lines = WatchLayout.Render(views, size.Width, size.Height, interval, DateTimeOffset.Now);
        Write(TerminalFrame.Compose(lines, size.Width, color));
        return size;
    }

    /// <summary>
    /// Straight to the terminal, not through Host.UI: with NO_COLOR (or $PSStyle.OutputRendering
    /// PlainText) PowerShell's host strips every escape sequence from what it writes, cursor moves
    /// included, and the screen would scroll instead of being redrawn. Only this (the pipeline) thread writes.
    /// </summary>
    private static void Write(string text)
    {
        Console.Out.Write(text);
        Console.Out.Flush();
    }

    /// <summary>
    /// Polls until <paramref name="done"/>, <paramref name="until"/>, or a resize away from
    /// <paramref name="drawnAt"/>; false when the user asked to leave (q, Esc) or pressed Ctrl+C.
    /// </summary>
    private bool WaitReadingKeys(Func<bool> done, DateTime until, (int Width, int Height)? drawnAt)
    {
        var token = StopSource.Token;
        while (!token.IsCancellationRequested)
        {
            while (Console.KeyAvailable)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.KeyChar is 'q' or 'Q' || key.Key == ConsoleKey.Escape) return false;
            }
            if (done() || DateTime.UtcNow >= until || (drawnAt is { } s && WindowSize() != s)) return true;
            token.WaitHandle.WaitOne(50);
        }
        return false;
    }

    private static (int Width, int Height) WindowSize() => (Math.Max(Console.WindowWidth, 1), Math.Max(Console.WindowHeight, 1));
}
