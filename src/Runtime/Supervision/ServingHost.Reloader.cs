namespace Serving.Runtime.Supervision;

/// <summary>
/// -Reload: the service's files watched (<see cref="ServiceWatcher"/>), each burst of changes one replan — its build's
/// lines the reloader's, a broken service reported and nothing started — then one <see cref="ReloadAsync"/>.
/// </summary>
public sealed partial class ServingHost
{
    private ServiceWatcher? _watcher;
    // True once the host is ready (false: its start failed): reloads wait for it.
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// -Reload: watch the service from now on; each burst of changes is one reload, once the host is
    /// ready. A service that cannot be watched (an inotify limit, a directory gone) fails the start: the
    /// user asked for reloading, and a host that silently does not reload would mislead them.
    /// </summary>
    private void StartWatching()
    {
        if (_options.Reload is not { } reload) return;
        try
        {
            var watcher = new ServiceWatcher(Plan.Definition, reload, OnServiceChangedAsync, message => Reload(message));
            Reload($"watching {string.Join("; ", watcher.Watched)}");
            using (Gate()) _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            throw new ServingException(ErrorIds.ReloadFailed, ServingErrorKind.InvalidOperation,
                $"Host '{Name}' was not started: -Reload cannot watch the service directory '{Plan.Definition.Directory}' ({e.Message}). " +
                "On Linux, a limit on inotify instances or watches (fs.inotify.max_user_instances, max_user_watches) is the usual cause; " +
                "raise it, or start without -Reload.", Name, e);
        }
    }

    private void StopWatching()
    {
        ServiceWatcher? watcher;
        using (Gate())
        {
            watcher = _watcher;
            _watcher = null;
        }
        watcher?.Dispose();
    }

    private async Task OnServiceChangedAsync(IReadOnlyList<string> paths)
    {
        if (!await _ready.Task.ConfigureAwait(false)) return;
        var cause = paths.Count == 1 ? paths[0] + " changed"
            : $"{paths.Count} files changed: {string.Join(", ", paths.Take(5))}{(paths.Count > 5 ? ", …" : "")}";
        HostPlan next;
        try
        {
            next = _options.Reload!.Replan(line =>
            {
                if (!string.IsNullOrWhiteSpace(line)) Reload("build: " + line.Trim(), ServiceProjectBuilder.LineLevel(line));
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken manifest or a missing runner type: nothing new starts.
            var error = NotReloaded($"{cause}, and the service cannot be loaded: {e.Message}");
            Reload(error.Message, LogLevel.Error);
            Raise(ReloadFailed, error);
            return;
        }
        try
        {
            await ReloadAsync(next, cause).ConfigureAwait(false);
        }
        catch (ServingException)
        {
            // ReloadAsync said why, in the log and through ReloadFailed.
        }
    }
}
