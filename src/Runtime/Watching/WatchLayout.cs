using System.Globalization;

namespace Serving.Runtime.Watching;

/// <summary>
/// Lays out Watch-ServingHost's screen as plain lines for a given window: per host its line, the
/// workers (supervisor first), the APIs and the runners, then a footer. Every line is cut to the
/// width (never wrapped) and the screen to the height, the footer kept. Pure: the same views and
/// size give the same lines.
/// </summary>
public static class WatchLayout
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IReadOnlyList<ScreenLine> Render(IReadOnlyList<HostWatchView> hosts, int width, int height, TimeSpan refresh, DateTimeOffset now)
    {
        width = Math.Max(1, width);
        height = Math.Max(1, height);
        var body = new List<ScreenLine>();
        if (hosts.Count == 0) body.Add(new ScreenLine("No serving host to watch.", LineStyle.Warning));
        foreach (var view in hosts)
        {
            if (body.Count > 0) body.Add(new ScreenLine(""));
            AddHost(body, view);
        }
        var footer = new ScreenLine(
            $"q: quit (the hosts keep running)   refresh {Seconds(refresh)}   {now.ToLocalTime().ToString("HH:mm:ss", Invariant)}", LineStyle.Dim);

        var lines = new List<ScreenLine>();
        var room = height - 1;
        if (body.Count <= room) lines.AddRange(body);
        else if (room > 0)
        {
            lines.AddRange(body.Take(room - 1));
            lines.Add(new ScreenLine($"... {body.Count - (room - 1)} more lines: enlarge the window", LineStyle.Dim));
        }
        lines.Add(footer);
        return lines.Take(height).Select(l => l with { Text = Fit(l.Text, width) }).ToArray();
    }

    /// <summary>Cut to <paramref name="width"/> columns; control characters (a label value's newline) become spaces.</summary>
    public static string Fit(string text, int width)
    {
        var chars = text.Select(c => char.IsControl(c) ? ' ' : c).ToArray();
        return new string(chars, 0, Math.Min(chars.Length, width));
    }

    private static void AddHost(List<ScreenLine> lines, HostWatchView view)
    {
        var host = view.Host;
        var url = host.Protocol == ServingProtocol.Grpc ? $"{host.Url} (gRPC: HTTP/2 only, h2c)" : host.Url;
        var job = host.JobId is { } id ? $"   job {id}" : "";
        lines.Add(new ScreenLine(
            $"{host.Name}   {url}   {host.State}   gen {host.Generation}   up {Duration(host.Uptime)}{job}",
            host.State switch
            {
                HostState.Failed or HostState.Degraded => LineStyle.Error,
                HostState.Starting or HostState.Stopping => LineStyle.Warning,
                _ => LineStyle.Title,
            }));
        lines.Add(new ScreenLine(
            $"service {host.Service}   {host.Protocol} {(host.Mode == ServingMode.Development ? "development" : "production")}   runners over {host.Transport}   respawn {(host.Respawn ? "on" : "off")}   id {host.Id}",
            LineStyle.Dim));
        if (host.Reason.Length > 0) lines.Add(new ScreenLine(host.Reason, LineStyle.Error));

        lines.Add(new ScreenLine(""));
        var workers = new Table("WORKER", "ROLE", ">PID", "STATE", ">GEN", ">RESTARTS", ">UPTIME", ">CPU%", ">RSS");
        if (view.SupervisorPid > 0)
        {
            var usage = Usage(view, view.SupervisorPid);
            workers.Add(LineStyle.Dim, "supervisor", "pwsh", Number(view.SupervisorPid), "", "", "", "", usage.Cpu, usage.Rss);
        }
        foreach (var w in host.Workers)
        {
            var usage = w.Uptime is null ? (Cpu: "", Rss: "") : Usage(view, w.Pid);
            workers.Add(
                w.State switch
                {
                    WorkerState.Failed or WorkerState.Exited => LineStyle.Error,
                    WorkerState.Backoff or WorkerState.Starting or WorkerState.Stopping => LineStyle.Warning,
                    _ => LineStyle.Plain,
                },
                w.Name, w.Role.ToString().ToLowerInvariant(), w.Pid > 0 ? Number(w.Pid) : "-", w.State.ToString(),
                Number(w.Generation), Number(w.Restarts), Duration(w.Uptime), usage.Cpu, usage.Rss);
        }
        workers.WriteTo(lines);

        lines.Add(new ScreenLine(""));
        if (view.MetricsError is { } error)
            lines.Add(new ScreenLine($"/metrics: {error}", LineStyle.Warning));
        if (view.Activity is not { } activity)
        {
            if (view.MetricsError is null) lines.Add(new ScreenLine("/metrics: waiting for the first scrape", LineStyle.Dim));
            return;
        }

        var apis = new Table("API", "PROTO", ">REQ/S", ">ERR%", ">P50 MS", ">P99 MS", ">MEAN MS", ">IN FLIGHT", ">TOTAL");
        foreach (var a in activity.Apis)
            apis.Add(a.ErrorShare > 0 ? LineStyle.Warning : LineStyle.Plain,
                a.Api, a.Protocol, Rate(a.RequestsPerSecond), Percent(a.ErrorShare), Ms(a.P50Ms), Ms(a.P99Ms), Ms(a.MeanMs),
                Number(a.InProgress), Number(a.Requests));
        if (activity.Apis.Count == 0) lines.Add(new ScreenLine("No API has reported yet.", LineStyle.Dim));
        else apis.WriteTo(lines);

        lines.Add(new ScreenLine(""));
        var runners = new Table("RUNNER", ">WORKERS", ">CALLS/S", ">CALL P99 MS", ">BATCH", ">BATCH ALL", ">QWAIT P99 MS", ">SHED/S", ">SHED", ">CALLS");
        var names = host.Runners.Select(r => r.Name).Concat(activity.Runners.Select(r => r.Runner)).Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var info = host.Runners.FirstOrDefault(r => r.Name == name);
            var r = activity.Runners.FirstOrDefault(x => x.Runner == name) ?? new RunnerActivity { Runner = name };
            runners.Add(info is { Workers: 0 } ? LineStyle.Error : r.ShedPerSecond > 0 ? LineStyle.Warning : LineStyle.Plain,
                name, info is null ? "-" : Number(info.Workers), Rate(r.CallsPerSecond), Ms(r.CallP99Ms), Mean(r.MeanBatchSize),
                Mean(r.LifetimeMeanBatchSize), Ms(r.QueueWaitP99Ms), Rate(r.ShedPerSecond), Number(r.Shed), Number(r.Calls));
        }
        runners.WriteTo(lines);
    }

    private static (string Cpu, string Rss) Usage(HostWatchView view, int pid) =>
        view.Usage.TryGetValue(pid, out var u) ? (u.CpuPercent is { } c ? c.ToString("0.0", Invariant) : "-", Bytes(u.ResidentBytes)) : ("-", "-");

    private static string Number(double value) => value.ToString("0", Invariant);
    private static string Rate(double? value) => value is { } v ? v.ToString(v >= 100 ? "0" : "0.0", Invariant) : "-";
    private static string Percent(double? share) => share is { } s ? (s * 100).ToString("0.0", Invariant) : "-";
    private static string Mean(double? value) => value is { } v ? v.ToString("0.0", Invariant) : "-";
    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", Invariant) + "s";

    private static string Ms(double? ms) => ms switch
    {
        null => "-",
        < 10 => ms.Value.ToString("0.00", Invariant),
        < 100 => ms.Value.ToString("0.0", Invariant),
        _ => ms.Value.ToString("0", Invariant),
    };

    /// <summary>"12:03:04", "3d 04:05:06"; "-" when not running.</summary>
    public static string Duration(TimeSpan? span)
    {
        if (span is not { } t) return "-";
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        var clock = $"{t.Hours:00}:{t.Minutes:00}:{t.Seconds:00}";
        return t.Days > 0 ? $"{t.Days}d {clock}" : clock;
    }

    /// <summary>Resident memory as top shows it: 512K, 40.1M, 1.25G.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1 << 20 => (bytes / 1024.0).ToString("0", Invariant) + "K",
        < 1 << 30 => (bytes / 1048576.0).ToString("0.0", Invariant) + "M",
        _ => (bytes / 1073741824.0).ToString("0.00", Invariant) + "G",
    };

    /// <summary>Columns as wide as their widest cell; a header starting with '>' is right-aligned.</summary>
    private sealed class Table
    {
        private readonly string[] _headers;
        private readonly bool[] _right;
        private readonly List<(LineStyle Style, string[] Cells)> _rows = new();

        public Table(params string[] headers)
        {
            _right = headers.Select(h => h.StartsWith('>')).ToArray();
            _headers = headers.Select(h => h.TrimStart('>')).ToArray();
        }

        public void Add(LineStyle style, params string[] cells) => _rows.Add((style, cells));

        public void WriteTo(List<ScreenLine> lines)
        {
            var widths = _headers.Select((h, i) => Math.Max(h.Length, _rows.Select(r => r.Cells[i].Length).DefaultIfEmpty(0).Max())).ToArray();
            lines.Add(new ScreenLine(Format(_headers, widths), LineStyle.Header));
            foreach (var (style, cells) in _rows) lines.Add(new ScreenLine(Format(cells, widths), style));
        }

        private string Format(string[] cells, int[] widths) =>
            string.Join("  ", cells.Select((c, i) => _right[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
    }
}
