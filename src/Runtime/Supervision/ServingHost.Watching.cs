namespace Serving.Runtime.Supervision;

/// <summary>
/// Watching workers: their lines (ready, stats, log), their exits (respawn with backoff, give up, or end the host), and what API workers are told about runners (runner-down, runner-up).
/// </summary>
public sealed partial class ServingHost
{
    /// <summary>
    /// A runner worker gone for good (respawn off): the supervisor's copy of its runner's socket would
    /// only keep it accepting into a void once no worker holds it; releasing it makes callers fail fast
    /// (connection refused). Kept until then: a restart on request (<see cref="RestartWorkerAsync"/>)
    /// hands it to the successor. The API socket is kept: a stop filters it before the workers close
    /// their copies, and a worker lost for good ends the host anyway. Caller holds the lock.
    /// </summary>
    private void ReleaseRunnerListener(WorkerSlot slot)
    {
        if (slot.Spec.Runner is { } runner && _bindings?.Runners.TryGetValue(runner, out var listener) == true)
            listener.Release();
    }

    internal void OnWorkerLine(WorkerRun run, string line, bool isError)
    {
        var slot = run.Slot;
        if (line.StartsWith(WorkerStatusLines.Prefix, StringComparison.Ordinal))
        {
            if (line == WorkerStatusLines.Ready)
            {
                using (Gate())
                {
                    // A successor's ready only completes its own task: it takes over when the restart says so.
                    if (ReferenceEquals(slot.Current, run) && slot.State == WorkerState.Starting)
                    {
                        SetWorker(slot, WorkerState.Running);
                        UpdateState();
                    }
                }
                run.Ready.TrySetResult();
            }
            else if (line == WorkerStatusLines.NotAccepting)
            {
                run.NotAccepting.TrySetResult();
            }
            else if (line.StartsWith(WorkerStatusLines.StatsPrefix, StringComparison.Ordinal) && slot.Spec.Role == WorkerRole.Runner
                && RunnerWorkerStats.Parse(line[WorkerStatusLines.StatsPrefix.Length..], DateTimeOffset.Now) is { } stats)
            {
                using (Gate())
                    run.Stats = stats;
            }
            return;
        }
        var entry = WorkerLineParser.Parse(line, isError, run.LastLevel(isError), Name, slot.Name, run.Pid, DateTimeOffset.Now);
        run.SetLastLevel(isError, entry.Level);
        Record(slot, line.StartsWith('{') ? WorkerLineParser.AsText(entry) : line, entry);
    }

    /// <summary>Now on the host's clock (<see cref="HostOptions.Time"/>), in UTC: what respawns are due by and Retry-After is counted from.</summary>
    private DateTime ClockUtcNow => _options.Time.GetUtcNow().UtcDateTime;

    private void OnExited(WorkerRun run, int exitCode, TimeSpan uptime)
    {
        var slot = run.Slot;
        var process = run.Process!;
        using (Gate())
        {
            slot.Retire(run);
            if (!ReferenceEquals(slot.Current, run))
            {
                OnEarlierRunExited(slot, run, exitCode);
                return;
            }
            slot.LastExitCode = exitCode;
            if (slot.Retiring)
            {
                // Scaled down: RemoveSlotsAsync removes the slot and says so once every process of it is gone.
                Note(slot, $"drained and exited (code {exitCode}{Signal(exitCode)})");
                return;
            }
            if (_stopping)
            {
                slot.Restart?.TrySetResult(false);
                slot.Restart = null;
                Note(slot, $"stopped (exit code {exitCode})");
                SetWorker(slot, WorkerState.Stopped);
                return;
            }
            if (slot.Restart is { } restart)
            {
                // A planned exit: started again at once, nothing counted against it.
                slot.Restart = null;
                process.Dispose();
                Note(slot, $"drained and exited (code {exitCode}); starting it again");
                restart.TrySetResult(StartAgain(slot));
                return;
            }
            Note(slot, $"exited unexpectedly with code {exitCode}{Signal(exitCode)} after {uptime.TotalSeconds:0.#} s", LogLevel.Error);
            if (SuccessorTakesOver(slot, run)) return;
            if (_startFailure is { } failure)
            {
                SetWorker(slot, WorkerState.Failed);
                failure.TrySetResult(slot);
                return;
            }
            process.Dispose();
            if (!Plan.Respawn)
            {
                var why = Plan.Platform.IsContainer
                    ? "inside a container the orchestrator restarts the host; -Respawn Always respawns workers instead"
                    : "respawn is off (-Respawn Never)";
                Note(slot, "not respawned: " + why, LogLevel.Warning);
                var reason = $"worker {slot.Name} exited with code {exitCode}{Signal(exitCode)} and is not respawned ({why})";
                // Said while the worker's log is still open: a finished worker takes no more lines.
                Note(slot, "the host ends: " + reason, LogLevel.Critical);
                ReleaseRunnerListener(slot);
                SetWorker(slot, WorkerState.Exited);
                FailHost(reason);
                return;
            }
            var next = _options.RespawnPolicy.Next(slot.FastCrashes, uptime);
            if (next is null)
            {
                Note(slot, $"crashed {_options.RespawnPolicy.MaxFastCrashes} times in a row within {_options.RespawnPolicy.StablePeriod.TotalSeconds:0} s of starting: given up (Failed)", LogLevel.Critical);
                SetWorker(slot, WorkerState.Failed);
                UpdateState();
                return;
            }
            var (delay, fast) = next.Value;
            slot.FastCrashes = fast;
            slot.RespawnDue = ClockUtcNow + delay;
            SetWorker(slot, WorkerState.Backoff);
            UpdateState();
            Note(slot, $"respawning in {delay.TotalMilliseconds:0} ms");
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
            slot.PendingRespawn = cancel;
            _ = RespawnLaterAsync(slot, delay, cancel);
        }
    }

    private async Task RespawnLaterAsync(WorkerSlot slot, TimeSpan delay, CancellationTokenSource cancel)
    {
        try
        {
            // On the host's clock: a fake one in tests, whose timer completes the wait when the test advances it.
            await Task.Delay(delay, _options.Time, cancel.Token).ConfigureAwait(false);
            using (Gate())
            {
                if (_stopping || cancel.IsCancellationRequested) return;
                StartAgain(slot);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            using (Gate())
            {
                if (ReferenceEquals(slot.PendingRespawn, cancel)) slot.PendingRespawn = null;
                cancel.Dispose();
            }
        }
    }

    /// <summary>
    /// Starts a slot's next process (a respawn after backoff, or a restart on request): Restarts + 1; a
    /// launch that fails leaves the slot Failed. False then. Caller holds the lock.
    /// </summary>
    private bool StartAgain(WorkerSlot slot)
    {
        slot.Restarts++;
        var started = true;
        try
        {
            Spawn(slot);
        }
        catch (ServingException e)
        {
            Note(slot, e.Message, LogLevel.Error);
            SetWorker(slot, WorkerState.Failed);
            started = false;
        }
        UpdateState();
        return started;
    }

    private static string Signal(int exitCode) => exitCode switch
    {
        137 => " (SIGKILL)",
        143 => " (SIGTERM)",
        134 => " (SIGABRT)",
        139 => " (SIGSEGV)",
        _ => "",
    };

    /// <summary>
    /// When a runner goes from having a live worker to none (a crash before its respawn, given up,
    /// exited) and back, every API worker is told (lifeline <c>runner-down</c> / <c>runner-up</c>), so
    /// calls to it are answered 503 with Retry-After at once instead of waiting in the backlog of a
    /// socket nobody accepts on. Caller holds the lock.
    /// </summary>
    private void TellRunnerChange(string runner)
    {
        if (_stopping || Plan.Mode == ServingMode.Development) return;
        var live = RunnerIsLive(runner);
        if (_runnerLive.TryGetValue(runner, out var was) && was == live) return;
        _runnerLive[runner] = live;
        TellApiWorkers(live ? LifelineCommands.RunnerUp(runner) : LifelineCommands.RunnerDown(runner, _slots, Plan.Respawn, ClockUtcNow));
    }

    /// <summary>A newly started API worker hears which runners are down (it assumes the others up). Caller holds the lock.</summary>
    private void TellRunnerStates(IWorkerProcess api)
    {
        if (Plan.Mode == ServingMode.Development) return;
        foreach (var runner in Plan.Runners)
            if (!RunnerIsLive(runner.Name))
                api.SendLine(LifelineCommands.RunnerDown(runner.Name, _slots, Plan.Respawn, ClockUtcNow));
        if (_failure is not null) api.SendLine(LifelineCommands.Failing(_failure));
    }

    private bool RunnerIsLive(string runner)
    {
        foreach (var s in _slots)
            if (s.Spec.Runner == runner && s.State == WorkerState.Running) return true;
        return false;
    }

    /// <summary>Writes a lifeline line to every live process serving the API (api and dev roles; successors too). Caller holds the lock.</summary>
    private void TellApiWorkers(string line)
    {
        foreach (var slot in _slots)
            if (slot.Spec.Role is WorkerRole.Api or WorkerRole.Dev)
                foreach (var run in slot.LiveRuns())
                    run.Process!.SendLine(line);
    }
}
