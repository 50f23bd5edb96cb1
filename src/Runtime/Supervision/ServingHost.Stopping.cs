namespace Serving.Runtime.Supervision;

/// <summary>
/// Stopping a host: filter the shared API socket, drain API workers then runners, kill what is left, release every socket and the state directory; and the container rule's end of a host whose worker is gone for good.
/// </summary>
public sealed partial class ServingHost
{
    /// <summary>
    /// Stops the host: stop accepting, let API workers drain up to <paramref name="timeout"/>, then
    /// runners, then kill what is left; remove the socket directory; release the port.
    /// Safe to call more than once and from any thread; later calls wait for the first.
    /// </summary>
    public Task StopAsync(TimeSpan timeout, bool force)
    {
        using (Gate())
        {
            if (_stopTask != null)
            {
                if (force) KillAll();
                return _stopTask;
            }
            _stopping = true;
            if (_state != HostState.Failed) SetState(HostState.Stopping, _failure ?? "");
            _stopTask = Task.Run(() => StopCoreAsync(timeout, force));
            return _stopTask;
        }
    }

    private async Task StopCoreAsync(TimeSpan timeout, bool force)
    {
        _lifetime.Cancel();
        StopWatching();
        // The whole host stops: the shared API socket drops new handshakes while the workers still
        // accept, so the ones under way complete and are served; when the last copy closes, nothing
        // is left to reset (ListenerSynFilter). Workers filter the sockets they own alone themselves.
        if (!force && timeout > TimeSpan.Zero && !WorkerSpecs.ApiWorkersBindThemselves(Plan) && _bindings?.Api is { IsClosed: false } api
            && ListenerSynFilter.TryAttach(api.Socket))
        {
            await Task.Delay(ListenerSynFilter.SettleWithin(timeout)).ConfigureAwait(false);
        }
        WorkerSlot[] slots;
        using (Gate())
        {
            slots = _slots.ToArray();
            foreach (var slot in slots)
            {
                slot.PendingRespawn?.Cancel();
                if (slot.State is WorkerState.Backoff) SetWorker(slot, WorkerState.Stopped);
            }
            // Drop our copy; each worker stops accepting on its own copy as it drains.
            _bindings?.Api.Release();
        }

        var deadline = DateTime.UtcNow + timeout;
        if (!force && timeout > TimeSpan.Zero)
        {
            // Front first, so in-flight API requests can still reach their runners while they drain. A
            // worker answers what is still running just before its drain ends; the grace lets it finish.
            await StopGroupAsync(slots.Where(s => s.Spec.Role != WorkerRole.Runner), timeout, deadline + StopGrace).ConfigureAwait(false);
            var runnerDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(2, (deadline - DateTime.UtcNow).TotalSeconds));
            await StopGroupAsync(slots.Where(s => s.Spec.Role == WorkerRole.Runner), timeout, runnerDeadline).ConfigureAwait(false);
        }

        Task[] exits;
        using (Gate())
        {
            KillAll();
            exits = slots.SelectMany(s => s.Runs()).Select(r => r.Process?.Exited ?? Task.CompletedTask).ToArray();
        }
        await Task.WhenAny(Task.WhenAll(exits), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);

        // No more writes into the state directory about to go: a change raised late would bring it back. Not under
        // the lock: a write in progress takes it for its snapshot, and Close waits for that write.
        _metricsFile?.Close();
        using (Gate())
        {
            foreach (var slot in slots)
            {
                foreach (var run in slot.Runs()) run.Process?.Dispose();
                if (slot.State is not (WorkerState.Failed or WorkerState.Exited)) SetWorker(slot, WorkerState.Stopped);
            }
            foreach (var listener in _bindings?.All ?? []) listener.Dispose();
            foreach (var listener in _earlierListeners) listener.Dispose();
            _stateDirectory?.Dispose();
            _stoppedAt = DateTimeOffset.Now;
            if (_failure is not null) SetState(HostState.Failed, _failure);
            else if (_state != HostState.Failed) SetState(HostState.Stopped, "");
        }
        // Behind the last state change and log lines: whoever sees the host complete has seen them.
        _events.Post(() => _completion.TrySetResult());
        _events.Deliver();
        // Another thread may be the one delivering: the stop is over when they are out.
        await _completion.Task.ConfigureAwait(false);
    }

    private async Task StopGroupAsync(IEnumerable<WorkerSlot> group, TimeSpan drain, DateTime deadline)
    {
        var waits = new List<Task>();
        using (Gate())
        {
            foreach (var slot in group)
            {
                // A successor still starting is told too; the runs a restart replaced are draining already.
                foreach (var run in slot.LiveRuns())
                {
                    if (!slot.Draining.Contains(run)) run.Process!.SendLine(LifelineCommands.Stop(drain));
                    waits.Add(run.Process!.Exited);
                }
                if (slot.Process is { Exited.IsCompleted: false }) SetWorker(slot, WorkerState.Stopping);
            }
        }
        var left = deadline - DateTime.UtcNow;
        if (waits.Count > 0 && left > TimeSpan.Zero)
            await Task.WhenAny(Task.WhenAll(waits), Task.Delay(left)).ConfigureAwait(false);
    }

    private void KillAll()
    {
        foreach (var slot in _slots)
            foreach (var run in slot.LiveRuns().ToArray())
                run.Process!.Kill();
    }

    /// <summary>
    /// The container rule made whole: a worker gone for good (respawn off) ends the host. API workers
    /// answer /livez 503 from now (lifeline <c>failing</c>), the rest stop gracefully within the
    /// host's stop timeout, and the host ends Failed with <paramref name="reason"/> — so
    /// Start-ServingHost -Wait ends with an error (pwsh exits non-zero) and the orchestrator restarts
    /// it. Caller holds the lock.
    /// </summary>
    private void FailHost(string reason)
    {
        if (_failure is not null || _stopping) return;
        _failure = reason;
        TellApiWorkers(LifelineCommands.Failing(reason));
        _ = StopAsync(_options.StopTimeout, force: false);
    }
}
