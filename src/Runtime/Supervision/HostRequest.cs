namespace Serving.Runtime.Supervision;

/// <summary>
/// What Start-ServingHost is asked for, as the user gave it: the service, the platform, the plan options
/// and the host's tunables. Nothing in it is derived; <see cref="HostLaunch.Prepare"/> derives the rest.
/// </summary>
public sealed record HostRequest
{
    /// <summary>The host's name; null: the service's name (then name-2, ...).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Reads and verifies the service (its manifest, assemblies, runner types and methods), building its project
    /// when it names one. Called once to plan the first generation (with null: the caller shows that build its
    /// own way), and again for each reload with where the build's lines go (the reloader's lines): a reload
    /// reads the service as it is on disk then.
    /// </summary>
    public required Func<Action<string>?, ServiceDefinition> LoadService { get; init; }

    /// <summary>The platform the host runs on (probed, or assumed by Get-ServingPlan's -Assume and by tests).</summary>
    public required PlatformInfo Platform { get; init; }

    /// <summary>What the plan is chosen from (protocol, transport, respawn, workers, port, address).</summary>
    public PlanOptions PlanOptions { get; init; } = new();

    /// <summary>
    /// Timeouts and limits. Its <see cref="HostOptions.Name"/> and <see cref="HostOptions.Reload"/> are the
    /// launch's to set; so is <see cref="HostOptions.ReadinessProbe"/> unless <see cref="ReadinessProbe"/> is given.
    /// </summary>
    public HostOptions Options { get; init; } = new();

    /// <summary>Asks whether the host is ready; null: the protocol's own probe (<see cref="HostOptions.ProbeFor"/>).</summary>
    public Func<string, CancellationToken, Task<bool>>? ReadinessProbe { get; init; }

    /// <summary>-Reload: watch the service and start a new generation when it changes.</summary>
    public bool Reload { get; init; }

    /// <summary>-ReloadInclude: only changes to files matching these reload; null: every file.</summary>
    public IReadOnlyList<string>? ReloadInclude { get; init; }

    /// <summary>-ReloadExclude: changes to files matching these never reload, on top of the defaults and .servingignore.</summary>
    public IReadOnlyList<string>? ReloadExclude { get; init; }

    /// <summary>Starts worker processes (the worker executable next to the module; tests pass fakes).</summary>
    public required IWorkerLauncher Launcher { get; init; }
}
