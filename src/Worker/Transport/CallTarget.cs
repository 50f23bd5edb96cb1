using Serving.Worker.Runners;

namespace Serving.Worker.Transport;

/// <summary>Where a runner worker sends a call: the method directly, or its batch dispatcher.</summary>
internal abstract class CallTarget(string runner, BoundMethod method)
{
    public string RunnerName { get; } = runner;
    public BoundMethod Method { get; } = method;

    /// <summary>
    /// Starts call <paramref name="id"/>; its reply goes to <paramref name="session"/>, at once or later.
    /// <paramref name="call"/>'s slices are valid only during this method: what runs later copies them.
    /// </summary>
    public abstract void Start(RunnerSession session, uint id, in ParsedCall call);

    /// <summary>Finishes queued work at a drain (batching) — nothing to do for a direct call.</summary>
    public virtual ValueTask DrainAsync() => ValueTask.CompletedTask;
}
