using System.Globalization;
using System.Text;

namespace Serving.Runtime.Supervision;

/// <summary>
/// What only the supervisor knows, as Prometheus text (0.0.4): the host, its generation, each worker's state and
/// restarts. The worker answering a scrape appends it to the workers' own metrics (Serving.Worker.Metrics); its
/// families are none of theirs, so each family stays in one block.
/// </summary>
public static class HostMetricsText
{
    public static string Render(HostInfo host)
    {
        var text = new StringBuilder(1024);
        Family(text, "serving_host_info", "gauge", "The host, as labels: name, service, protocol and mode (always 1).");
        text.Append(CultureInfo.InvariantCulture,
            $"serving_host_info{{host=\"{MetricsFiles.EscapeLabelValue(host.Name)}\",service=\"{MetricsFiles.EscapeLabelValue(host.Service)}\",protocol=\"{Lower(host.Protocol)}\",mode=\"{Lower(host.Mode)}\"}} 1\n");
        Family(text, "serving_host_generation", "gauge", "The generation of workers serving now: 1 at start, one more for each reload.");
        text.Append(CultureInfo.InvariantCulture, $"serving_host_generation {host.Generation}\n");
        Family(text, "serving_worker_up", "gauge", "1 while a worker runs and serves, else 0, by worker and role.");
        foreach (var worker in host.Workers)
            text.Append(CultureInfo.InvariantCulture, $"serving_worker_up{{{Labels(worker)}}} {(worker.State == WorkerState.Running ? 1 : 0)}\n");
        Family(text, "serving_worker_state", "gauge",
            "1 for the state each worker is in (starting, running, backoff, exited, failed, stopping, stopped), 0 for the others.");
        foreach (var worker in host.Workers)
            foreach (var state in Enum.GetValues<WorkerState>())
                text.Append(CultureInfo.InvariantCulture,
                    $"serving_worker_state{{{Labels(worker)},state=\"{Lower(state)}\"}} {(worker.State == state ? 1 : 0)}\n");
        Family(text, "serving_worker_restarts_total", "counter",
            "Times a worker's process was started again after the first (respawns after a crash, and restarts), by worker and role.");
        foreach (var worker in host.Workers)
            text.Append(CultureInfo.InvariantCulture, $"serving_worker_restarts_total{{{Labels(worker)}}} {worker.Restarts}\n");
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Labels(WorkerInfo worker) =>
        $"worker=\"{MetricsFiles.EscapeLabelValue(worker.Name)}\",role=\"{Lower(worker.Role)}\"";

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
