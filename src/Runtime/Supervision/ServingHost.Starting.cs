using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Serving.Runtime.Supervision;

/// <summary>
/// Starting a host: bind its sockets, write host.json, start every worker (runners first) and return once each reported ready and the host answers its readiness probe; on any failure everything started is stopped first.
/// </summary>
public sealed partial class ServingHost
{
    /// <summary>
    /// Starts everything and returns once /readyz answers 200. On any failure everything started is
    /// stopped and removed before the exception propagates.
    /// </summary>
    public async Task StartAsync(IProgress<(int Percent, string Status)>? progress, CancellationToken cancellationToken)
    {
        try
        {
            progress?.Report((5, "Binding listeners"));
            _stateDirectory = HostStateDirectory.Create(Plan);
            // Before any worker: the API workers' /metrics appends what only the supervisor knows.
            _metricsFile = new HostMetricsFile(_stateDirectory.Path, Snapshot);
            _metricsFile.Update();
            BindListeners();
            _secret = Plan.Transport == RunnerTransport.Tcp ? Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) : "";
            if (Plan.Mode == ServingMode.Production)
                foreach (var runner in Plan.Runners)
                    _runnerWorkers[runner.Name] = runner.Workers;
            _apiWorkers = Plan.ApiWorkers;
            var configPath = _stateDirectory.File(ConfigFileName(1));
            WriteHostConfig(Plan, _bindings!, configPath, _runnerWorkers, 1);
            CreateSlots(configPath);
            // Before any worker: a service that cannot be watched fails the start, and a change saved
            // while the workers start is not missed (its reload waits until the host is ready).
            StartWatching();

            _startFailure = new TaskCompletionSource<WorkerSlot>(TaskCreationOptions.RunContinuationsAsynchronously);
            var slots = Workers;
            var started = 0;
            foreach (var slot in slots)
            {
                using (Gate()) Spawn(slot);
                started++;
                progress?.Report((10 + 40 * started / slots.Count, $"Started {slot.Name}"));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.StartTimeout);
            await WaitForReadyAsync(slots, progress, timeout.Token, cancellationToken).ConfigureAwait(false);

            using (Gate())
            {
                _startedAt = DateTimeOffset.Now;
                _startFailure = null;
                UpdateState();
            }
            _ready.TrySetResult(true);
            progress?.Report((100, "Ready"));
        }
        catch
        {
            _ready.TrySetResult(false);
            await StopAsync(TimeSpan.Zero, force: true).ConfigureAwait(false);
            using (Gate()) SetState(HostState.Failed, "The host failed to start.");
            throw;
        }
    }

    private async Task WaitForReadyAsync(IReadOnlyList<WorkerSlot> slots, IProgress<(int, string)>? progress,
        CancellationToken timeout, CancellationToken userCancel)
    {
        var failure = _startFailure!.Task;
        try
        {
            foreach (var slot in slots)
            {
                var ready = slot.Ready;
                var done = await Task.WhenAny(ready, failure, Task.Delay(Timeout.Infinite, timeout)).ConfigureAwait(false);
                if (done == failure) throw StartFailed(await failure.ConfigureAwait(false));
                if (done != ready) throw StartTimedOut(slot, null);
            }
            progress?.Report((80, "Waiting for /readyz"));
            while (true)
            {
                if (failure.IsCompleted) throw StartFailed(await failure.ConfigureAwait(false));
                if (await _options.ReadinessProbe(Url, timeout).ConfigureAwait(false)) return;
                await Task.Delay(50, timeout).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !userCancel.IsCancellationRequested)
        {
            // Every worker said it was ready, yet the probe never passed: say what /readyz answers now.
            throw StartTimedOut(null, await HostOptions.DescribeReadinessAsync(Url, Plan.Protocol).ConfigureAwait(false));
        }
    }

    private ServingException StartFailed(WorkerSlot slot) => new(ErrorIds.WorkerStartFailed, ServingErrorKind.InvalidOperation,
        $"Worker {slot.Name} exited with code {slot.LastExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} while host '{Name}' was starting; " +
        $"nothing was left running. Its last lines:{Environment.NewLine}{Tail(slot)}", slot.Name);

    /// <param name="slot">The worker that did not report ready; null when they all did and the probe never passed.</param>
    /// <param name="probeAnswer">What /readyz answers now, when the probe never passed.</param>
    private ServingException StartTimedOut(WorkerSlot? slot, string? probeAnswer)
    {
        // The probe is answered by an API worker (the one process in development mode): its lines say why.
        var waiting = slot ?? Workers.FirstOrDefault(s => !s.Ready.IsCompleted)
            ?? Workers.FirstOrDefault(s => s.Spec.Role != WorkerRole.Runner) ?? Workers.FirstOrDefault();
        var what = slot != null ? $"worker {slot.Name} did not report ready"
            : (Plan.Protocol == ServingProtocol.Grpc ? $"grpc.health.v1 Check at {Url} did not answer SERVING" : $"{Url}/readyz did not answer 200") +
              (probeAnswer is null ? "" : $"; /readyz now: {probeAnswer}");
        return new ServingException(ErrorIds.HostStartTimeout, ServingErrorKind.OperationTimeout,
            $"Host '{Name}' did not become ready within {_options.StartTimeout.TotalSeconds:0.#} s ({what}); nothing was left running. " +
            $"Raise -StartTimeout if the service needs longer to load." +
            (waiting != null ? $" Last lines of {waiting.Name}:{Environment.NewLine}{Tail(waiting)}" : ""),
            Name);
    }

    private void BindListeners()
    {
        var address = HostPlanner.ParseHostAddress(Plan.HostAddress);
        var api = WorkerSpecs.ApiWorkersBindThemselves(Plan)
            ? HostListeners.ReservePort(address, Plan.Port)
            : HostListeners.BindTcp(address, Plan.Port);
        var runners = new Dictionary<string, Listener>(StringComparer.Ordinal);
        // Set at once: a failure half way still leaves every socket bound so far to the stop that follows.
        _bindings = new HostBindings(api, runners, null);
        if (Plan.MetricsPort is { } metricsPort && WorkerSpecs.MetricsPortShared(OperatingSystem.IsWindows()))
            _bindings = new HostBindings(api, runners, HostListeners.ReservePort(address, metricsPort));
        if (Plan.Port == 0)
        {
            var builder = new UriBuilder(Plan.Url) { Port = api.Port };
            _url = builder.Uri.GetLeftPart(UriPartial.Authority);
        }
        BindRunners(Plan, 1, runners);
    }

    /// <summary>Binds each runner's socket for a generation into <paramref name="runners"/> (development mode: none).</summary>
    private static void BindRunners(HostPlan plan, int generation, Dictionary<string, Listener> runners)
    {
        if (plan.Mode == ServingMode.Development) return;
        foreach (var runner in plan.Runners)
        {
            runners[runner.Name] = runner.Transport == RunnerTransport.Uds
                ? HostListeners.BindUnix(SocketPathPlanner.ForGeneration(runner.Endpoint, generation, plan.Platform.MaxUnixSocketPath))
                : HostListeners.BindTcp(IPAddress.Loopback, 0);
        }
    }

    // The TCP runners' secret, one per host: every generation's host.json carries it.
    private string _secret = "";

    /// <summary>
    /// Writes the host.json workers of <paramref name="plan"/> start from (a generation's own file;
    /// rewritten when scaling), with each runner's worker count from <paramref name="runnerWorkers"/>.
    /// </summary>
    private void WriteHostConfig(HostPlan plan, HostBindings bindings, string path, IReadOnlyDictionary<string, int> runnerWorkers, int generation)
    {
        var endpoints = new Dictionary<string, (RunnerTransport, string)>();
        if (plan.Mode == ServingMode.Production)
            foreach (var runner in plan.Runners)
                endpoints[runner.Name] = (runner.Transport, bindings.Runners[runner.Name].Endpoint);
        HostConfigWriter.Write(path, plan, Name, endpoints, runnerWorkers, _secret, _options, generation);
    }

    /// <summary>What a generation's worker specs are built from: its plan, its sockets, its host.json.</summary>
    private WorkerSpecs.SpecContext NewSpecContext(HostPlan plan, HostBindings bindings, string configPath) =>
        new(plan, bindings, Name, _url, configPath,
            operatorSetGen0: Environment.GetEnvironmentVariable(WorkerSpecs.Gen0SizeVariable) is not null, windows: OperatingSystem.IsWindows());

    /// <summary>host.json for the first generation, host-N.json for the Nth: workers of two generations run side by side during a reload.</summary>
    private static string ConfigFileName(int generation) =>
        generation == 1 ? "host.json" : $"host-{generation.ToString(CultureInfo.InvariantCulture)}.json";

    private void CreateSlots(string configPath)
    {
        _configPath = configPath;
        _specContext = NewSpecContext(Plan, _bindings!, configPath);
        using (Gate())
            foreach (var spec in WorkerSpecs.Build(_specContext))
                _slots.Add(new WorkerSlot(spec, _options.RecentLines));
    }

    /// <summary>Starts (or restarts) the slot's process, which becomes its current one. Caller holds the lock.</summary>
    private void Spawn(WorkerSlot slot)
    {
        SetWorker(slot, WorkerState.Starting);
        var run = Launch(slot);
        slot.Current = run;
        Note(slot, $"started (pid {run.Pid})");
    }

    /// <summary>
    /// Starts one process for <paramref name="slot"/> from its spec and watches its exit; an API
    /// worker's process hears at once which runners are down. Caller holds the lock, so the process's
    /// first lines wait until the caller has put the run in its place.
    /// </summary>
    private WorkerRun Launch(WorkerSlot slot) => Launch(slot, slot.Spec, _generation);

    /// <summary>Starts a process for <paramref name="slot"/> from <paramref name="spec"/> (a reload's new generation brings new specs). Caller holds the lock.</summary>
    private WorkerRun Launch(WorkerSlot slot, WorkerSpec spec, int generation)
    {
        var run = new WorkerRun(this, slot, spec, generation);
        IWorkerProcess process;
        try
        {
            process = _launcher.Start(spec, run);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            throw new ServingException(ErrorIds.WorkerStartFailed, ServingErrorKind.InvalidOperation,
                $"Cannot start worker {slot.Name}: {e.Message}", slot.Name, e);
        }
        run.Process = process;
        run.Pid = process.Pid;
        run.StartedAt = DateTimeOffset.Now;
        if (spec.Role is WorkerRole.Api or WorkerRole.Dev) TellRunnerStates(process);
        var started = _options.Time.GetUtcNow();
        // Never on this thread: a process that died before Start returned (a crash at load) has its exit
        // handled once the caller, who holds the lock, has put the run in its place (current or successor);
        // handled here and now, the run would be no slot's yet, and the death unseen.
        _ = process.Exited.ContinueWith(t => OnExited(run, t.Result, _options.Time.GetUtcNow() - started),
            CancellationToken.None, TaskContinuationOptions.RunContinuationsAsynchronously, TaskScheduler.Default);
        return run;
    }
}
