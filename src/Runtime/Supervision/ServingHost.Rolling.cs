namespace Serving.Runtime.Supervision;

/// <summary>
/// Restarting and scaling a live host without failing a request: one worker at a time, each new
/// process started next to the one it replaces (they share its socket) and ready before that one is
/// told to drain. The kernel hands new connections to either until the old process closes its copy;
/// the old one answers what it accepted, then exits.
/// </summary>
public sealed partial class ServingHost
{
    // One restart or scale at a time: a second waits for the first (each is a sequence of single steps).
    private readonly SemaphoreSlim _rollout = new(1, 1);

    /// <summary>
    /// Restarts one worker: its successor starts next to it and, once ready, takes its place; the old
    /// process then drains (the lifeline's <c>stop</c>, up to <paramref name="drain"/>; killed after that)
    /// — no request fails, none is counted as a crash, <c>Restarts</c> + 1. Returns once the old process
    /// is gone. A successor that exits or is not ready within the start timeout is killed and the old
    /// process keeps serving (<see cref="ErrorIds.WorkerNotRestartable"/>). Where a successor cannot share
    /// the socket (<see cref="HostOptions.SuccessorsOverlap"/>) the worker drains first and is started again after.
    /// A worker waiting to be respawned, or given up on, is started at once.
    /// </summary>
    public async Task RestartWorkerAsync(string name, TimeSpan drain)
    {
        await _rollout.WaitAsync().ConfigureAwait(false);
        try
        {
            WorkerSlot slot;
            using (Gate())
            {
                slot = _slots.FirstOrDefault(s => s.Name == name)
                    ?? throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.ObjectNotFound,
                        $"Host '{Name}' has no worker '{name}'. Its workers: {string.Join(", ", _slots.Select(s => s.Name))}.", name);
            }
            await RestartSlotAsync(slot, drain).ConfigureAwait(false);
        }
        finally
        {
            _rollout.Release();
        }
    }

    /// <summary>
    /// The rolling restart: every worker (or <paramref name="runner"/>'s only), one at a time — runners
    /// first, so the API workers restarted after them connect to runners that are already new — each
    /// as <see cref="RestartWorkerAsync"/> does it. Stops at the first worker that cannot be restarted,
    /// leaving it and those after it as they were.
    /// </summary>
    public async Task RestartAsync(string? runner, TimeSpan drain, IProgress<(int Percent, string Status)>? progress = null)
    {
        await _rollout.WaitAsync().ConfigureAwait(false);
        try
        {
            WorkerSlot[] order;
            using (Gate())
            {
                ThrowIfStopping("restarted");
                if (runner is not null)
                {
                    if (Plan.Mode == ServingMode.Development)
                        throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidArgument,
                            $"Host '{Name}' runs in development mode: its runners run inside its one process (dev-1). Restart the host without -Runner.", runner);
                    if (!Plan.Runners.Any(r => r.Name == runner))
                        throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.ObjectNotFound,
                            $"Host '{Name}' has no runner '{runner}'. Its runners: {string.Join(", ", Plan.Runners.Select(r => r.Name))}.", runner);
                }
                order = _slots.Where(s => runner is null || s.Spec.Runner == runner)
                    .OrderBy(s => s.Spec.Role == WorkerRole.Runner ? 0 : 1).ToArray();
            }
            for (var i = 0; i < order.Length; i++)
            {
                progress?.Report((100 * i / order.Length, $"Restarting {order[i].Name} ({i + 1} of {order.Length})"));
                await RestartSlotAsync(order[i], drain).ConfigureAwait(false);
            }
            progress?.Report((100, "Restarted"));
        }
        finally
        {
            _rollout.Release();
        }
    }

    private async Task RestartSlotAsync(WorkerSlot slot, TimeSpan drain)
    {
        WorkerState state;
        using (Gate())
        {
            ThrowIfStopping("restarted");
            if (slot.Retiring || !_slots.Contains(slot)) return;
            state = slot.State;
            if (state is WorkerState.Backoff or WorkerState.Failed)
            {
                // Waiting for its respawn, or given up on: a restart asked for is a fresh start, now.
                slot.PendingRespawn?.Cancel();
                slot.FastCrashes = 0;
                Note(slot, $"restarting on request ({state}): starting it now");
                if (!StartAgain(slot))
                    throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidOperation,
                        $"Worker {slot.Name} of host '{Name}' could not be started again. Its last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);
            }
            else if (state != WorkerState.Running)
            {
                throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidOperation,
                    $"Worker {slot.Name} of host '{Name}' is {(slot.Successor is not null || slot.Restart is not null ? "already restarting" : state.ToString())}: " +
                    "only a running worker (or one waiting to be respawned, or given up on) can be restarted.", slot.Name);
            }
        }
        if (state != WorkerState.Running)
        {
            await WaitUntilReadyAsync(slot, "was started again").ConfigureAwait(false);
            return;
        }
        if (_options.SuccessorsOverlap)
            await ReplaceAsync(slot, drain).ConfigureAwait(false);
        else
            await RestartWithoutOverlapAsync(slot, drain).ConfigureAwait(false);
    }

    /// <summary>Successor first: it starts next to the current process and takes over once ready; then the old one drains.</summary>
    private async Task ReplaceAsync(WorkerSlot slot, TimeSpan drain)
    {
        WorkerRun successor;
        using (Gate())
        {
            ThrowIfStopping("restarted");
            Note(slot, $"restarting on request: starting a successor; pid {slot.Pid} serves until it is ready");
            successor = Launch(slot);
            slot.Successor = successor;
        }
        var exited = successor.Process!.Exited;
        var notReady = await FirstNotReadyAsync([successor]).ConfigureAwait(false);

        WorkerRun old;
        using (Gate())
        {
            if (ReferenceEquals(slot.Current, successor))
                return; // The old process died meanwhile and its successor took its place at once (OnExited).
            slot.Successor = null;
            var ready = notReady is null;
            if (!ready || _stopping)
            {
                var why = exited.IsCompleted
                    ? $"exited with code {exited.Result}{Signal(exited.Result)} before it was ready"
                    : $"did not report ready within {_options.StartTimeout.TotalSeconds:0.#} s and was killed";
                // Abandoned: it goes with the processes that drain, so a stop waits for it and its exit is noted.
                slot.Draining.Add(successor);
                if (!exited.IsCompleted) successor.Process.Kill();
                ThrowIfStopping("restarted");
                Note(slot, $"successor (pid {successor.Pid}) {why}; pid {slot.Pid} keeps serving", LogLevel.Warning);
                throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidOperation,
                    $"Worker {slot.Name} of host '{Name}' was not restarted: its successor (pid {successor.Pid}) {why}. " +
                    $"The running process (pid {slot.Pid}) keeps serving. Last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);
            }
            old = slot.Current!;
            slot.Current = successor;
            slot.Draining.Add(old);
            slot.Restarts++;
            slot.FastCrashes = 0;
            RaiseWorkerChanged(slot);
            Note(slot, $"successor (pid {successor.Pid}) is ready and serving; pid {old.Pid} drains for up to {drain.TotalSeconds:0.#} s");
            old.Process!.SendLine(LifelineCommands.Stop(drain));
        }
        await ExitOrKillAsync(old.Process, drain).ConfigureAwait(false);
    }

    /// <summary>
    /// Drain first, then start again (where a successor cannot share the socket): a runner's only worker
    /// is answered 503 with Retry-After meanwhile. A planned exit: no backoff, no crash counted.
    /// </summary>
    private async Task RestartWithoutOverlapAsync(WorkerSlot slot, TimeSpan drain)
    {
        IWorkerProcess process;
        TaskCompletionSource<bool> restart;
        using (Gate())
        {
            ThrowIfStopping("restarted");
            process = slot.Process!;
            restart = slot.Restart = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            SetWorker(slot, WorkerState.Stopping);
            Note(slot, "restarting on request: draining");
            process.SendLine(LifelineCommands.Stop(drain));
        }
        await ExitOrKillAsync(process, drain).ConfigureAwait(false);
        // OnExited starts the successor (unless the host began to stop meanwhile).
        if (!await restart.Task.ConfigureAwait(false))
        {
            using (Gate())
            {
                ThrowIfStopping("restarted");
                throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidOperation,
                    $"Worker {slot.Name} of host '{Name}' drained but could not be started again ({slot.State}). Its last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);
            }
        }
        await WaitUntilReadyAsync(slot, "was restarted").ConfigureAwait(false);
    }

    private async Task WaitUntilReadyAsync(WorkerSlot slot, string what)
    {
        Task ready;
        using (Gate()) ready = slot.Ready;
        if (await Task.WhenAny(ready, Task.Delay(_options.StartTimeout)).ConfigureAwait(false) != ready)
            throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.OperationTimeout,
                $"Worker {slot.Name} of host '{Name}' {what} but did not report ready within {_options.StartTimeout.TotalSeconds:0.#} s; " +
                $"the supervisor keeps watching it. Its last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);
    }

    private static async Task ExitOrKillAsync(IWorkerProcess process, TimeSpan drain)
    {
        if (await Task.WhenAny(process.Exited, Task.Delay(drain + StopGrace)).ConfigureAwait(false) != process.Exited)
            process.Kill();
        await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
    }

    /// <summary>Caller holds the lock.</summary>
    private void ThrowIfStopping(string what)
    {
        if (_stopping)
            throw new ServingException(ErrorIds.WorkerNotRestartable, ServingErrorKind.InvalidOperation,
                $"Host '{Name}' is stopping: its workers are not {what}.", Name);
    }

    /// <summary>
    /// A process that is not the slot's current one exited: one a successor replaced (drained), or a
    /// successor that did not get to take over. Caller holds the lock.
    /// </summary>
    private void OnEarlierRunExited(WorkerSlot slot, WorkerRun run, int exitCode)
    {
        if (ReferenceEquals(slot.Successor, run))
        {
            Note(slot, $"successor (pid {run.Pid}) exited with code {exitCode}{Signal(exitCode)} before it was ready", LogLevel.Error);
            return; // ReplaceAsync reports it and lets go of it.
        }
        if (slot.Draining.Remove(run))
        {
            Note(slot, $"pid {run.Pid} drained and exited (code {exitCode}{Signal(exitCode)})");
            run.Process?.Dispose();
        }
    }

    /// <summary>
    /// The current process died while its successor was starting: the successor takes its place at
    /// once (Starting until it reports ready), instead of a respawn. False when there is none. Caller holds the lock.
    /// </summary>
    private bool SuccessorTakesOver(WorkerSlot slot, WorkerRun died)
    {
        if (slot.Successor is not { HasExited: false } successor || _stopping) return false;
        slot.Successor = null;
        slot.Current = successor;
        slot.Restarts++;
        died.Process?.Dispose();
        Note(slot, $"its successor (pid {successor.Pid}) takes its place");
        if (successor.Ready.Task.IsCompleted)
        {
            RaiseWorkerChanged(slot);
        }
        else
        {
            SetWorker(slot, WorkerState.Starting);
            _ = successor.Ready.Task.ContinueWith(_ =>
            {
                using (Gate())
                {
                    if (!ReferenceEquals(slot.Current, successor) || slot.State != WorkerState.Starting) return;
                    SetWorker(slot, WorkerState.Running);
                    UpdateState();
                }
            }, TaskScheduler.Default);
        }
        UpdateState();
        return true;
    }
}
