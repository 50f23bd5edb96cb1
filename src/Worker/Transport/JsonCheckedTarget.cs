using Serving.Worker.Batching;
using Serving.Worker.Runners;

namespace Serving.Worker.Transport;

/// <summary>
/// A JSON API's calls to a method that takes raw bytes or text: each input is checked to be one JSON
/// value (<see cref="JsonInputGate"/>) before it goes on to <paramref name="inner"/>; one that is not
/// is answered InvalidJson at once.
/// </summary>
internal sealed class JsonCheckedTarget(CallTarget inner) : CallTarget(inner.RunnerName, inner.Method)
{
    /// <summary>The target the checked calls go to.</summary>
    public CallTarget Inner { get; } = inner;

    public override void Start(RunnerSession session, uint id, in ParsedCall call)
    {
        if (JsonInputGate.Problem(call.Input) is { } problem)
        {
            session.EndCall(id, ItemResult.Error(ItemStatus.InvalidJson, problem), call.RequestId);
            return;
        }
        Inner.Start(session, id, call);
    }

    public override ValueTask DrainAsync() => Inner.DrainAsync();
}
