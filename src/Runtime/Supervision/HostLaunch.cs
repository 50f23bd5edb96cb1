namespace Serving.Runtime.Supervision;

/// <summary>
/// Starting a host, in the two steps a cmdlet with -WhatIf needs: <see cref="Prepare"/> plans it and checks
/// everything that can be checked before a process starts (the caller shows the plan and asks); then
/// <see cref="StartAsync"/> creates, registers and starts it, and leaves nothing behind when that fails.
/// </summary>
public sealed class HostLaunch
{
    private readonly HostRequest _request;

    private HostLaunch(HostRequest request, HostPlan plan, string name, IReadOnlyList<string> warnings)
    {
        _request = request;
        Plan = plan;
        Name = name;
        Warnings = warnings;
    }

    /// <summary>The first generation's plan.</summary>
    public HostPlan Plan { get; }

    /// <summary>The host's name: the one asked for, or a free one from the service's name.</summary>
    public string Name { get; }

    /// <summary>The plan's warnings and the request's own, for the caller to show before it asks.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>What starting means, in one line: where, how many workers, which transport (ShouldProcess's target).</summary>
    public string Summary =>
        $"{Plan.Url} ({Plan.ApiWorkers} API workers, runners {string.Join(", ", Plan.Runners.Select(r => $"{r.Name} x{r.Workers}"))}, {Plan.Transport})";

    /// <summary>
    /// Plans the host and checks the request: the service loads, the plan holds on this platform, the name is
    /// free, the reload patterns parse. Throws <see cref="ServingException"/> for what the user must fix;
    /// nothing has started.
    /// </summary>
    public static HostLaunch Prepare(HostRequest request)
    {
        var plan = HostPlanner.Plan(request.Platform, request.LoadService(null), request.PlanOptions);
        var name = HostRegistry.ChooseName(request.Name, plan.Service);
        var warnings = plan.Warnings.ToList();
        if (request.Reload)
            CheckReloadPatterns(request);
        else if (request.ReloadInclude is not null || request.ReloadExclude is not null)
            warnings.Add("-ReloadInclude and -ReloadExclude have no effect without -Reload.");
        return new HostLaunch(request, plan, name, warnings);
    }

    /// <summary>
    /// Creates the host with the Id <paramref name="id"/>, hands it to <paramref name="attach"/> before any worker
    /// starts (a job subscribing to its events sees every worker from its first line), registers it in the session
    /// and starts it. When the start fails or is cancelled, StartAsync has stopped what it started and the host is
    /// unregistered again before the exception reaches the caller. The caller chooses the id: Start-ServingHost
    /// passes its job's, so one number names the host and its job (Stop-Job -Id, Get-ServingHost -Id).
    /// </summary>
    public async Task<ServingHost> StartAsync(int id, Action<ServingHost>? attach, IProgress<(int Percent, string Status)>? progress,
        CancellationToken cancellationToken)
    {
        var options = _request.Options with
        {
            Name = Name,
            ReadinessProbe = _request.ReadinessProbe ?? HostOptions.ProbeFor(Plan.Protocol),
            Reload = _request.Reload ? ReloadOptionsFor(Plan) : null,
        };
        var host = new ServingHost(Plan, options, _request.Launcher, id);
        attach?.Invoke(host);
        HostRegistry.Add(host);
        try
        {
            await host.StartAsync(progress, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            HostRegistry.Remove(host);
            throw;
        }
        return host;
    }

    /// <summary>
    /// Each generation is planned like the first — the service read again the same way, the same options and
    /// platform — for the same host (its id, so its socket directory).
    /// </summary>
    private ReloadOptions ReloadOptionsFor(HostPlan first)
    {
        var options = _request.PlanOptions with { HostId = first.HostId };
        var platform = first.Platform;
        var load = _request.LoadService;
        return new ReloadOptions
        {
            Replan = buildOutput => HostPlanner.Plan(platform, load(buildOutput), options),
            Include = _request.ReloadInclude,
            Exclude = _request.ReloadExclude,
        };
    }

    /// <summary>The patterns are checked before anything starts: a bad one is the user's to fix.</summary>
    private static void CheckReloadPatterns(HostRequest request)
    {
        try
        {
            _ = new ReloadFilter(request.ReloadInclude, request.ReloadExclude, null);
        }
        catch (ArgumentException e)
        {
            throw new ServingException(ErrorIds.InvalidPlanOption, ServingErrorKind.InvalidArgument,
                $"-ReloadInclude / -ReloadExclude: {e.Message}", e.ParamName);
        }
    }
}
