namespace Serving.Runtime.Supervision;

/// <summary>
/// The sockets a host's workers serve on, bound by the supervisor before any worker starts: the API
/// socket, one per runner, by the runner's name (development mode: none), and the metrics port's reservation.
/// </summary>
internal sealed class HostBindings(Listener api, IReadOnlyDictionary<string, Listener> runners, Listener? metrics = null)
{
    public Listener Api { get; } = api;

    public IReadOnlyDictionary<string, Listener> Runners { get; } = runners;

    /// <summary>
    /// -MetricsPort: a bound, never-listening SO_REUSEPORT socket keeping the port for the API workers, which
    /// each bind it themselves (<see cref="HostListeners.ReservePort"/>); null without a metrics port, and on
    /// Windows (no SO_REUSEPORT: the first API worker binds it alone).
    /// </summary>
    public Listener? Metrics { get; } = metrics;

    /// <summary>Every socket: the API's first.</summary>
    public IEnumerable<Listener> All => Metrics is null ? Runners.Values.Prepend(Api) : Runners.Values.Prepend(Api).Append(Metrics);
}
