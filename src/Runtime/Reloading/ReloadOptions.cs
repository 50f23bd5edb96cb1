namespace Serving.Runtime.Reloading;

/// <summary>What -Reload watches and how it gets the next generation's plan.</summary>
public sealed class ReloadOptions
{
    /// <summary>
    /// Plans the next generation from the service as it is on disk now (the manifest read again, its
    /// assemblies checked, its project built). Its argument takes each line of that build's output, which
    /// the host writes as reloader lines. Throws <see cref="ServingException"/> for a broken service: the
    /// serving generation goes on and the error is reported.
    /// </summary>
    public required Func<Action<string>, HostPlan> Replan { get; init; }

    /// <summary>Patterns of files (relative to the service directory) whose change reloads; null: <see cref="ReloadFilter.DefaultInclude"/>.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Patterns never reloaded for, on top of <see cref="ReloadFilter.DefaultExclude"/> and the service's .servingignore.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>A burst of changes ends when none came for this long. Default <see cref="ReloadDebounce.DefaultQuiet"/>.</summary>
    public TimeSpan Quiet { get; init; } = ReloadDebounce.DefaultQuiet;

    /// <summary>A reload waits at most this long after a burst's first change, even while changes keep coming (a long build).</summary>
    public TimeSpan MaxWait { get; init; } = ReloadDebounce.DefaultMaxWait;
}
