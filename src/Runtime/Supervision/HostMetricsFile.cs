namespace Serving.Runtime.Supervision;

/// <summary>
/// Keeps <see cref="MetricsFiles.HostFileName"/> (the text of <see cref="HostMetricsText"/>) in the host's metrics directory up to date: rewritten whole (aside,
/// then renamed over the old one) when a worker or the host changes, so a scrape never reads half a file.
/// </summary>
internal sealed class HostMetricsFile
{
    private readonly string _directory;
    private readonly Func<HostInfo> _snapshot;
    private readonly object _gate = new();
    private long _writes;
    private bool _closed;

    public HostMetricsFile(string stateDirectory, Func<HostInfo> snapshot)
    {
        _directory = Path.Combine(stateDirectory, MetricsFiles.DirectoryName);
        _snapshot = snapshot;
    }

    public string FilePath => Path.Combine(_directory, MetricsFiles.HostFileName);

    /// <summary>
    /// Ends the writes, before the state directory is removed: a change raised after the stop must not bring the
    /// directory back (it was left behind, holding host.prom), nor a write in progress keep it from being removed.
    /// </summary>
    public void Close()
    {
        lock (_gate) _closed = true;
    }

    /// <summary>Writes the host's state now. Never throws: metrics must not stop a host (a failure skips one write).</summary>
    public void Update()
    {
        lock (_gate)
        {
            try
            {
                if (_closed) return;
                Directory.CreateDirectory(_directory);
                var aside = Path.Combine(_directory, $"{MetricsFiles.HostFileName}.{++_writes}.tmp");
                File.WriteAllText(aside, HostMetricsText.Render(_snapshot()));
                File.Move(aside, FilePath, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The state directory is going (the host stops), or is not writable: the next change tries again.
            }
        }
    }
}
