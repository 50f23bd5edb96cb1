namespace Serving.Runtime.Reloading;

/// <summary>
/// Watches a service for -Reload: its directory (recursively, through <see cref="ReloadFilter"/>) and
/// its runner assemblies where they live outside it; turns a burst of changes into one call of
/// <c>onChanged</c> (<see cref="ReloadDebounce"/>), never two at once — changes made during a reload
/// make the next one. Touches files only; what a change means is the host's business.
/// </summary>
internal sealed class ServiceWatcher : IDisposable
{
    private readonly string _directory;
    private readonly ReloadOptions _options;
    private readonly ReloadDebounce _debounce;
    private readonly Func<IReadOnlyList<string>, Task> _onChanged;
    private readonly Action<string> _log;
    private readonly List<FileSystemWatcher> _watchers = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private volatile ReloadFilter _filter;

    public ServiceWatcher(ServiceDefinition service, ReloadOptions options, Func<IReadOnlyList<string>, Task> onChanged, Action<string> log)
    {
        _directory = Path.GetFullPath(service.Directory);
        _options = options;
        _onChanged = onChanged;
        _log = log;
        _debounce = new ReloadDebounce(options.Quiet, options.MaxWait);
        _filter = ReloadFilter.Load(_directory, options.Include, options.Exclude);

        var root = new FileSystemWatcher(_directory) { IncludeSubdirectories = true, NotifyFilter = Notify };
        Subscribe(root, root: true);
        _watchers.Add(root);
        // Assemblies outside the service directory: their own directory, those files only.
        foreach (var group in service.Assemblies.Select(Path.GetFullPath).Where(a => !IsUnder(a, _directory)).GroupBy(Path.GetDirectoryName))
        {
            if (group.Key is null || !Directory.Exists(group.Key)) continue;
            var watcher = new FileSystemWatcher(group.Key) { IncludeSubdirectories = false, NotifyFilter = Notify };
            foreach (var assembly in group) watcher.Filters.Add(Path.GetFileName(assembly));
            Subscribe(watcher, root: false);
            _watchers.Add(watcher);
        }
        foreach (var watcher in _watchers) watcher.EnableRaisingEvents = true;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Directories and files watched, for the log line that says what -Reload covers.</summary>
    public IEnumerable<string> Watched => _watchers.Select(w => w.Filters.Count > 0 && w.Filters[0] != "*"
        ? string.Join(", ", w.Filters.Select(f => Path.Combine(w.Path, f)))
        : w.Path);

    private const NotifyFilters Notify = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size;

    /// <param name="root">The service directory's watcher (paths relative to it, through the filter); else an assembly's (full paths, unfiltered).</param>
    private void Subscribe(FileSystemWatcher watcher, bool root)
    {
        string? Name(string fullPath) => root ? Relative(fullPath) : fullPath;
        watcher.Changed += (_, e) => OnChange(Name(e.FullPath), root);
        watcher.Created += (_, e) => OnChange(Name(e.FullPath), root);
        watcher.Deleted += (_, e) => OnChange(Name(e.FullPath), root);
        watcher.Renamed += (_, e) =>
        {
            OnChange(Name(e.OldFullPath), root);
            OnChange(Name(e.FullPath), root);
        };
        // The kernel's queue overflowed: what changed is unknown, so reload to be safe.
        watcher.Error += (_, e) => Add($"(events lost: {e.GetException().Message})");
    }

    private string? Relative(string fullPath)
    {
        var relative = Path.GetRelativePath(_directory, fullPath);
        return relative.StartsWith("..", StringComparison.Ordinal) ? null : relative.Replace('\\', '/');
    }

    private void OnChange(string? path, bool underServiceDirectory)
    {
        if (path is null) return;
        if (underServiceDirectory)
        {
            if (string.Equals(path, ReloadFilter.IgnoreFileName, _filter.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            {
                // The ignore file is read again, not reloaded for; one saved half-edited keeps the patterns that were.
                try
                {
                    _filter = ReloadFilter.Load(_directory, _options.Include, _options.Exclude);
                }
                catch (ArgumentException e)
                {
                    _log($"{ReloadFilter.IgnoreFileName} was not read again ({e.Message}); its earlier patterns still apply");
                }
                return;
            }
            if (Directory.Exists(Path.Combine(_directory, path)) || !_filter.Watches(path)) return;
        }
        Add(path);
    }

    private void Add(string path)
    {
        _debounce.Add(path, DateTime.UtcNow);
        _signal.Release();
    }

    private async Task LoopAsync()
    {
        var token = _stop.Token;
        try
        {
            while (true)
            {
                await _signal.WaitAsync(token).ConfigureAwait(false);
                while (_debounce.DueAt is { } due)
                {
                    var wait = due - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, token).ConfigureAwait(false);
                    if (_debounce.TakeIfDue(DateTime.UtcNow) is not { } batch) continue;
                    try
                    {
                        await _onChanged(batch).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _log($"the reload for {string.Join(", ", batch)} failed: {e.Message}");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private static bool IsUnder(string path, string directory)
    {
        var relative = Path.GetRelativePath(directory, path);
        return !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }

    /// <summary>
    /// Stops watching. A reload under way is not waited for: the host that disposes this is stopping,
    /// and the reload gives up on seeing that.
    /// </summary>
    public void Dispose()
    {
        foreach (var watcher in _watchers) watcher.Dispose();
        _stop.Cancel();
    }
}
