namespace Serving.Runtime.Supervision;

/// <summary>
/// Generations: a reload starts a whole new set of workers from a new plan — new runner sockets, a
/// host.json of its own, the same API socket — next to the set serving now, and switches only once
/// every new worker reported ready. Then the old API workers drain (still calling the old runners),
/// then the old runners. A new generation that fails to start is taken down and the old one never
/// stopped serving.
/// </summary>
public sealed partial class ServingHost
{
    /// <summary>The name reload lines are logged under (Receive-Job shows them in a child job of that name).</summary>
    public const string ReloaderName = "reloader";

    // The generation new workers are started into (a respawn too): the newest, from the switch on.
    private int _generation = 1;
    // The generation every new connection goes to: the newest, once the old API workers said they stopped accepting.
    private int _servingGeneration = 1;
    private string _configPath = "";
    // Sockets of generations before the current one, until their workers are gone (a stop disposes what is left).
    private readonly List<Listener> _earlierListeners = new();

    /// <summary>
    /// The generation serving now: 1 at start, one more per reload that went through. It changes once every API
    /// worker of the one before has closed its listening sockets, so from then on every new connection (a client
    /// that connects anew, as Invoke-ServingApi does after a change) reaches the new generation's code.
    /// </summary>
    public int Generation { get { using (Gate()) return _servingGeneration; } }

    /// <summary>How long a switch waits for an old API worker to say it stopped accepting (it takes milliseconds).</summary>
    private static readonly TimeSpan NotAcceptingPatience = TimeSpan.FromSeconds(3);

    /// <summary>A reload did not go through (the old generation keeps serving): why, as the user needs it.</summary>
    public event Action<ServingException>? ReloadFailed;

    /// <summary>
    /// Starts generation N+1 from <paramref name="next"/> and switches to it once every new worker is
    /// ready (see the type's remarks). Throws <see cref="ErrorIds.ReloadFailed"/> when it cannot start,
    /// having stopped whatever of it started; the serving generation is untouched then.
    /// </summary>
    public async Task ReloadAsync(HostPlan next, string cause, IProgress<(int Percent, string Status)>? progress = null)
    {
        await _rollout.WaitAsync().ConfigureAwait(false);
        try
        {
            await ReloadCoreAsync(next, cause, progress).ConfigureAwait(false);
        }
        catch (ServingException e)
        {
            Reload($"generation {Generation + 1} failed; generation {Generation} keeps serving: {e.Message}", LogLevel.Error);
            Raise(ReloadFailed, e);
            throw;
        }
        finally
        {
            _rollout.Release();
        }
    }

    private async Task ReloadCoreAsync(HostPlan next, string cause, IProgress<(int, string)>? progress)
    {
        int generation;
        var kept = new List<string>();
        using (Gate())
        {
            if (_stopping) throw NotReloaded("the host is stopping");
            next = KeepScale(next, kept);
            if (next.Mode != Plan.Mode || next.Protocol != Plan.Protocol || next.Transport != Plan.Transport)
                throw NotReloaded($"a reload keeps the host's mode, protocol and runner transport ({Plan.Mode}, {Plan.Protocol}, {Plan.Transport}); " +
                    $"the new plan has {next.Mode}, {next.Protocol}, {next.Transport}. Stop the host and start it again to change them");
            generation = _generation + 1;
        }
        Reload($"generation {generation} starting ({cause})" + (kept.Count > 0 ? "; it keeps " + string.Join(", ", kept) : ""));
        progress?.Report((5, $"Starting generation {generation}"));

        // Its own runner sockets and host.json: the old generation's API workers keep calling their runners.
        var runners = new Dictionary<string, Listener>(StringComparer.Ordinal);
        HostBindings bindings;
        string configPath;
        WorkerSpecs.SpecContext context;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            BindRunners(next, generation, runners);
            bindings = new HostBindings(_bindings!.Api, runners, _bindings.Metrics);
            configPath = _stateDirectory!.File(ConfigFileName(generation));
            if (next.Mode == ServingMode.Production)
                foreach (var runner in next.Runners)
                    counts[runner.Name] = runner.Workers;
            WriteHostConfig(next, bindings, configPath, counts, generation);
            context = NewSpecContext(next, bindings, configPath);
        }
        catch (Exception e) when (e is ServingException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            foreach (var listener in runners.Values) listener.Dispose();
            throw e as ServingException ?? NotReloaded($"its sockets or host.json could not be set up: {e.Message}");
        }

        var specs = WorkerSpecs.Build(context);
        var started = new List<(WorkerSlot Slot, WorkerRun Run, bool Joined)>();
        try
        {
            // Runners first, ready before the API workers that call them start.
            var phases = new[] { specs.Where(s => s.Role == WorkerRole.Runner).ToArray(), specs.Where(s => s.Role != WorkerRole.Runner).ToArray() };
            foreach (var phase in phases)
            {
                if (phase.Length == 0) continue;
                var batch = new List<(WorkerSlot Slot, WorkerRun Run, bool Joined)>();
                using (Gate())
                {
                    if (_stopping) throw NotReloaded("the host began to stop");
                    foreach (var spec in phase)
                    {
                        var slot = _slots.FirstOrDefault(s => s.Name == spec.Name && !s.Retiring && s.Successor is null);
                        var joined = slot is null;
                        if (slot is null)
                        {
                            slot = new WorkerSlot(spec, _options.RecentLines) { Joining = true };
                            _slots.Insert(InsertionPoint(spec), slot);
                        }
                        var run = Launch(slot, spec, generation);
                        slot.Successor = run;
                        Note(slot, $"generation {generation}: started (pid {run.Pid})");
                        batch.Add((slot, run, joined));
                    }
                }
                started.AddRange(batch);
                progress?.Report((phase == phases[0] ? 20 : 50, $"Waiting for generation {generation}'s {(phase == phases[0] ? "runners" : "API workers")}"));
                var failed = await FirstNotReadyAsync(batch.Select(b => b.Run)).ConfigureAwait(false);
                if (failed is not null)
                {
                    var exit = failed.Process!.Exited;
                    var why = exit.IsCompleted
                        ? $"worker {failed.Slot.Name} of generation {generation} exited with code {exit.Result}{Signal(exit.Result)} before it was ready"
                        : $"worker {failed.Slot.Name} of generation {generation} did not report ready within {_options.StartTimeout.TotalSeconds:0.#} s";
                    throw NotReloaded($"{why}. Its last lines:{Environment.NewLine}{Tail(failed.Slot)}");
                }
            }
        }
        catch (ServingException)
        {
            Abandon(started, runners.Values);
            throw;
        }

        progress?.Report((70, $"Switching to generation {generation}"));
        List<WorkerRun> oldApi = new(), oldRunners = new();
        WorkerSlot[] leaving;
        Listener[] earlier;
        string earlierConfig;
        var drain = _options.StopTimeout;
        using (Gate())
        {
            if (_stopping)
            {
                Abandon(started, runners.Values);
                throw NotReloaded("the host began to stop");
            }
            foreach (var (slot, run, _) in started)
            {
                slot.Successor = null;
                if (slot.Current is { } old)
                {
                    slot.Draining.Add(old);
                    if (!old.HasExited) (old.Spec.Role == WorkerRole.Runner ? oldRunners : oldApi).Add(old);
                }
                slot.Current = run;
                slot.Spec = run.Spec;
                slot.Joining = false;
                slot.FastCrashes = 0;
                slot.PendingRespawn?.Cancel();
                if (slot.State != WorkerState.Running) SetWorker(slot, WorkerState.Running);
                else RaiseWorkerChanged(slot);
            }
            var staying = started.Select(s => s.Slot).ToHashSet();
            leaving = _slots.Where(s => !staying.Contains(s) && !s.Retiring).ToArray();
            earlier = [.. _bindings!.Runners.Values];
            earlierConfig = _configPath;
            _earlierListeners.AddRange(earlier);
            Plan = next;
            _bindings = bindings;
            _specContext = context;
            _configPath = configPath;
            _runnerWorkers.Clear();
            foreach (var (name, count) in counts) _runnerWorkers[name] = count;
            _apiWorkers = next.ApiWorkers;
            _generation = generation;
            _runnerLive.Clear();
            // New connections belong to the new generation from now on: every old API worker closes its listening
            // sockets at once, and keeps serving the connections it has until its turn to drain below.
            foreach (var run in oldApi)
                if (!run.HasExited) run.Process!.SendLine(LifelineCommands.StopAccepting);
            UpdateState();
        }
        // Generation N is announced once no old API worker takes a new connection any more (each says so when its
        // listening sockets are closed; one that exited, or is too slow to say it, is not waited for).
        await Task.WhenAll(oldApi.Select(run => Task.WhenAny(run.NotAccepting.Task, run.Process!.Exited, Task.Delay(NotAcceptingPatience))))
            .ConfigureAwait(false);
        using (Gate())
        {
            _servingGeneration = generation;
            MetricsChanged();
        }
        Reload($"generation {generation} serving; generation {generation - 1} drains");

        // Old API workers drain first, still calling the old runners for what they hold; one at a time,
        // as RemoveSlotsAsync says why.
        foreach (var run in oldApi)
        {
            using (Gate())
                if (!run.HasExited) run.Process!.SendLine(LifelineCommands.Stop(drain));
            await ExitOrKillAsync(run.Process!, drain).ConfigureAwait(false);
        }
        await RemoveSlotsAsync(leaving.Where(s => s.Spec.Role != WorkerRole.Runner).ToArray(), drain).ConfigureAwait(false);
        using (Gate())
            foreach (var run in oldRunners)
                if (!run.HasExited) run.Process!.SendLine(LifelineCommands.Stop(drain));
        await Task.WhenAll(oldRunners.Select(r => ExitOrKillAsync(r.Process!, drain))).ConfigureAwait(false);
        await RemoveSlotsAsync(leaving.Where(s => s.Spec.Role == WorkerRole.Runner).ToArray(), drain).ConfigureAwait(false);

        using (Gate())
        {
            foreach (var listener in earlier)
            {
                listener.Dispose();
                _earlierListeners.Remove(listener);
            }
        }
        TryDelete(earlierConfig);
        progress?.Report((100, $"Generation {generation} serving"));
        Reload($"generation {generation - 1} stopped");
    }

    /// <summary>
    /// The counts Set-ServingHost chose outlive a reload: an operator who scaled a runner up for load
    /// does not want a saved model file to scale it back down. Each kept count is said in the reload's
    /// line. Caller holds the lock.
    /// </summary>
    private HostPlan KeepScale(HostPlan next, List<string> kept)
    {
        if (next.Mode != ServingMode.Production) return next;
        var api = next.ApiWorkers;
        if (_scaledApi is { } scaledApi && scaledApi != api)
        {
            kept.Add($"{scaledApi} API workers (Set-ServingHost; the plan says {api})");
            api = scaledApi;
        }
        var runners = new RunnerPlan[next.Runners.Length];
        for (var i = 0; i < runners.Length; i++)
        {
            var runner = next.Runners[i];
            if (_scaledRunners.TryGetValue(runner.Name, out var scaled) && scaled != runner.Workers)
            {
                kept.Add($"{scaled} '{runner.Name}' workers (Set-ServingHost; the manifest says {runner.Workers})");
                runner = runner with { Workers = scaled };
            }
            runners[i] = runner;
        }
        return kept.Count == 0 ? next : next with { ApiWorkers = api, Runners = runners };
    }

    /// <summary>Where a slot new in a generation goes: after the last of its group (runner, or API), so listings stay in order.</summary>
    private int InsertionPoint(WorkerSpec spec)
    {
        var last = _slots.FindLastIndex(s => s.Spec.Role == spec.Role && s.Spec.Runner == spec.Runner);
        if (last >= 0) return last + 1;
        // A runner new in this generation: after the other runners, before the API workers.
        if (spec.Role == WorkerRole.Runner)
        {
            var firstApi = _slots.FindIndex(s => s.Spec.Role != WorkerRole.Runner);
            return firstApi < 0 ? _slots.Count : firstApi;
        }
        return _slots.Count;
    }

    /// <summary>Waits for every run's ready; the first that exited or was not ready within the start timeout, else null.</summary>
    private async Task<WorkerRun?> FirstNotReadyAsync(IEnumerable<WorkerRun> runs)
    {
        var deadline = Task.Delay(_options.StartTimeout, _lifetime.Token);
        foreach (var run in runs)
        {
            var done = await Task.WhenAny(run.Ready.Task, run.Process!.Exited, deadline).ConfigureAwait(false);
            if (done != run.Ready.Task || run.Process.Exited.IsCompleted) return run;
        }
        return null;
    }

    /// <summary>A generation that will not serve: its processes are killed, its new slots and sockets go. The serving generation is untouched.</summary>
    private void Abandon(IEnumerable<(WorkerSlot Slot, WorkerRun Run, bool Joined)> started, IEnumerable<Listener> sockets)
    {
        using (Gate())
        {
            foreach (var (slot, run, joined) in started)
            {
                if (ReferenceEquals(slot.Successor, run)) slot.Successor = null;
                if (!ReferenceEquals(slot.Current, run)) slot.Draining.Add(run);
                if (!run.HasExited) run.Process!.Kill();
                if (joined) _slots.Remove(slot);
            }
            foreach (var listener in sockets) listener.Dispose();
        }
    }

    private ServingException NotReloaded(string why) => new(ErrorIds.ReloadFailed, ServingErrorKind.InvalidOperation,
        $"Host '{Name}' was not reloaded: {why}. Generation {Generation} keeps serving.", Name);

    /// <summary>A line of the reloader's, in the host's log (Receive-Job's "reloader" child job; the console under -Wait).</summary>
    private void Reload(string message, LogLevel level = LogLevel.Information) => Record(null, "", new WorkerLogEntry
    {
        Time = DateTimeOffset.Now,
        Host = Name,
        Worker = ReloaderName,
        Pid = Environment.ProcessId,
        Stream = "supervisor",
        Event = "reloader",
        Level = level,
        Message = "reloader: " + message,
    });

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The state directory goes when the host stops.
        }
    }
}
