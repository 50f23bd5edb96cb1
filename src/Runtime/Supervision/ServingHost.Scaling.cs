namespace Serving.Runtime.Supervision;

/// <summary>
/// Scaling a live host (Set-ServingHost): new workers start on the host's sockets and are ready before
/// anything else changes; surplus ones drain one at a time and are removed.
/// </summary>
public sealed partial class ServingHost
{
    // How many workers each runner and the API have now (production): scaling changes them, host.json says them.
    private readonly Dictionary<string, int> _runnerWorkers = new(StringComparer.Ordinal);
    private int _apiWorkers;
    // What Set-ServingHost asked for: kept by reloads, which otherwise take the counts from the plan.
    private int? _scaledApi;
    private readonly Dictionary<string, int> _scaledRunners = new(StringComparer.Ordinal);

    /// <summary>The highest worker count <see cref="ScaleAsync"/> takes for the API or one runner.</summary>
    public const int MaxWorkers = 1024;

    /// <summary>
    /// Scales the live host to <paramref name="apiWorkers"/> API workers and each runner named in
    /// <paramref name="runnerWorkers"/> to its count (null / absent: unchanged). New workers are started
    /// and ready first — a runner's new count is then written to host.json and told to the API workers,
    /// which open connections to match; surplus workers (the highest numbers) drain and are removed,
    /// runners after the API workers were told. Runners are scaled before the API. Everything is
    /// checked before anything starts (<see cref="ErrorIds.HostNotScalable"/>); a new worker that fails
    /// to start is removed again and the host keeps serving with the workers it had.
    /// </summary>
    public async Task ScaleAsync(int? apiWorkers, IReadOnlyDictionary<string, int>? runnerWorkers, TimeSpan drain,
        IProgress<(int Percent, string Status)>? progress = null)
    {
        await _rollout.WaitAsync().ConfigureAwait(false);
        try
        {
            using (Gate())
            {
                if (_stopping)
                    throw new ServingException(ErrorIds.HostNotScalable, ServingErrorKind.InvalidOperation, $"Host '{Name}' is stopping: it is not scaled.", Name);
                if (Plan.Mode == ServingMode.Development)
                    throw new ServingException(ErrorIds.HostNotScalable, ServingErrorKind.InvalidOperation,
                        $"Host '{Name}' runs in development mode: one process serves the API and runs the runners, so it has no worker counts to change. " +
                        "Start it without -Development to scale it.", Name);
                CheckCount("-ApiWorkers", apiWorkers);
                foreach (var (runner, count) in runnerWorkers ?? new Dictionary<string, int>())
                {
                    if (!_runnerWorkers.ContainsKey(runner))
                        throw new ServingException(ErrorIds.HostNotScalable, ServingErrorKind.ObjectNotFound,
                            $"Host '{Name}' has no runner '{runner}'. Its runners: {string.Join(", ", _runnerWorkers.Keys)}.", runner);
                    CheckCount($"-RunnerWorkers {runner}", count);
                }
            }
            foreach (var (runner, count) in runnerWorkers ?? new Dictionary<string, int>())
                await ScaleGroupAsync(runner, count, drain, progress).ConfigureAwait(false);
            if (apiWorkers is { } api)
                await ScaleGroupAsync(null, api, drain, progress).ConfigureAwait(false);
            progress?.Report((100, "Scaled"));
        }
        finally
        {
            _rollout.Release();
        }
    }

    private static void CheckCount(string what, int? count)
    {
        if (count is { } n && (n < 1 || n > MaxWorkers))
            throw new ServingException(ErrorIds.HostNotScalable, ServingErrorKind.InvalidArgument,
                $"{what} must be between 1 and {MaxWorkers}; got {n}.", n);
    }

    /// <summary>Scales one runner's workers (<paramref name="runner"/>) or the API workers (null) to <paramref name="target"/>.</summary>
    private async Task ScaleGroupAsync(string? runner, int target, TimeSpan drain, IProgress<(int, string)>? progress)
    {
        var what = runner is null ? "API workers" : $"runner '{runner}'";
        WorkerSlot[] added;
        WorkerSlot[] surplus;
        using (Gate())
        {
            ThrowIfStopping("scaled");
            var group = _slots.Where(s => InGroup(s, runner)).ToList();
            var current = group.Count;
            added = new WorkerSlot[Math.Max(0, target - current)];
            for (var i = 0; i < added.Length; i++)
            {
                var index = current + i + 1;
                var spec = runner is null ? _specContext!.Api(index) : _specContext!.Runner(runner, index);
                added[i] = new WorkerSlot(spec, _options.RecentLines);
                // Next to its group, so listings keep runners then API workers, each in order.
                var at = _slots.FindLastIndex(s => InGroup(s, runner));
                _slots.Insert(at < 0 ? _slots.Count : at + 1, added[i]);
            }
            surplus = group.Where(s => s.Spec.Index > target).OrderByDescending(s => s.Spec.Index).ToArray();
            if (added.Length > 0)
            {
                progress?.Report((10, $"Starting {added.Length} more {what}"));
                foreach (var slot in added)
                {
                    try
                    {
                        Spawn(slot);
                    }
                    catch (ServingException e)
                    {
                        Note(slot, e.Message);
                        SetWorker(slot, WorkerState.Failed);
                    }
                }
                UpdateState();
            }
        }

        if (added.Length > 0)
        {
            var failure = await WaitAllReadyAsync(added).ConfigureAwait(false);
            if (failure is not null)
            {
                await RemoveSlotsAsync(added, TimeSpan.Zero).ConfigureAwait(false);
                throw new ServingException(ErrorIds.HostNotScalable, ServingErrorKind.InvalidOperation,
                    $"Host '{Name}' was not scaled: new worker {failure.Name} did not become ready ({failure.State}); the new workers were removed " +
                    $"and the host serves with the workers it had. Last lines of {failure.Name}:{Environment.NewLine}{Tail(failure)}", Name);
            }
        }

        using (Gate())
        {
            ThrowIfStopping("scaled");
            if (runner is null)
            {
                _apiWorkers = target;
                _scaledApi = target;
            }
            else
            {
                _runnerWorkers[runner] = target;
                _scaledRunners[runner] = target;
                // API workers started from now on read the new count; the running ones are told it.
                WriteHostConfig(Plan, _bindings!, _configPath, _runnerWorkers, _generation);
                TellApiWorkers(LifelineCommands.RunnerWorkers(runner, target));
            }
            if (added.Length > 0) Note(added[^1], $"{what}: {target} now (was {target - added.Length})");
        }

        if (surplus.Length > 0)
        {
            progress?.Report((60, $"Draining {surplus.Length} {what}"));
            await RemoveSlotsAsync(surplus, drain).ConfigureAwait(false);
        }
    }

    private static bool InGroup(WorkerSlot slot, string? runner) =>
        runner is null ? slot.Spec.Role == WorkerRole.Api : slot.Spec.Runner == runner;

    /// <summary>Waits for every slot's first ready (<see cref="FirstNotReadyAsync"/>); returns the first that failed or timed out, else null.</summary>
    private async Task<WorkerSlot?> WaitAllReadyAsync(IReadOnlyList<WorkerSlot> slots)
    {
        WorkerRun[] runs;
        using (Gate())
        {
            // A slot whose launch failed has no process to wait for.
            if (slots.FirstOrDefault(s => s.State == WorkerState.Failed || s.Current is null) is { } unlaunched) return unlaunched;
            runs = [.. slots.Select(s => s.Current!)];
        }
        return (await FirstNotReadyAsync(runs).ConfigureAwait(false))?.Slot;
    }

    /// <summary>
    /// Drains the slots' processes one slot at a time (up to <paramref name="drain"/> each; zero: all
    /// killed at once) and removes the slots; their counters stay in the runner's totals. One at a time,
    /// like a rolling restart: under wrk, two API workers draining together let a keep-alive connection
    /// be closed under a request about once in 100,000; one by one, none was seen. API workers waiting
    /// for their turn are told to stop accepting first (<c>stop-accepting</c>): they only finish what
    /// their open connections bring.
    /// </summary>
    private async Task RemoveSlotsAsync(IReadOnlyList<WorkerSlot> slots, TimeSpan drain)
    {
        if (drain > TimeSpan.Zero && slots.Count > 1)
        {
            // The API workers waiting for their turn take no new connections meanwhile: those go to the workers that stay.
            using (Gate())
                foreach (var slot in slots)
                    if (slot.Spec.Role is WorkerRole.Api or WorkerRole.Dev)
                        foreach (var run in slot.LiveRuns())
                            run.Process!.SendLine(LifelineCommands.StopAccepting);
            foreach (var slot in slots)
                await RemoveSlotsTogetherAsync([slot], drain).ConfigureAwait(false);
            return;
        }
        await RemoveSlotsTogetherAsync(slots, drain).ConfigureAwait(false);
    }

    private async Task RemoveSlotsTogetherAsync(IReadOnlyList<WorkerSlot> slots, TimeSpan drain)
    {
        var exits = new List<Task>();
        using (Gate())
        {
            foreach (var slot in slots)
            {
                slot.Retiring = true;
                slot.PendingRespawn?.Cancel();
                foreach (var run in slot.LiveRuns())
                {
                    if (drain > TimeSpan.Zero) run.Process!.SendLine(LifelineCommands.Stop(drain));
                    else run.Process!.Kill();
                    exits.Add(ExitOrKillAsync(run.Process!, drain));
                }
                SetWorker(slot, WorkerState.Stopping);
            }
            UpdateState();
        }
        await Task.WhenAll(exits).ConfigureAwait(false);
        using (Gate())
        {
            foreach (var slot in slots)
            {
                if (!_slots.Remove(slot)) continue;
                foreach (var run in slot.Runs()) run.Process?.Dispose();
                if (slot.Spec.Runner is { } runner)
                    _removedStats[runner] = _removedStats.GetValueOrDefault(runner, RunnerWorkerStats.Empty).Plus(slot.TotalStats());
                Note(slot, "removed (scaled down)");
                SetWorker(slot, WorkerState.Stopped);
            }
            UpdateState();
        }
    }
}
