namespace Serving.Runtime.Supervision;

/// <summary>
/// The sockets a host's workers serve on, bound by the supervisor before any worker starts: the API
/// socket, and one per runner, by the runner's name (development mode: none).
/// </summary>
internal sealed class HostBindings(Listener api, IReadOnlyDictionary<string, Listener> runners)
{
    public Listener Api { get; } = api;

    public IReadOnlyDictionary<string, Listener> Runners { get; } = runners;

    /// <summary>Every socket: the API's first.</summary>
    public IEnumerable<Listener> All => Runners.Values.Prepend(Api);
}
