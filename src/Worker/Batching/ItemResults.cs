using Serving.Abstractions;
using Serving.Worker.Runners;

namespace Serving.Worker.Batching;

/// <summary>
/// The results the batching path gives, with their client messages: one mapping from what a runner
/// method threw to an item's status, the same as the runner worker's gRPC statuses
/// (docs/worker-protocol.md, "Runner calls"), so a batched and a single call fail alike.
/// </summary>
internal static class ItemResults
{
    /// <summary>
    /// <see cref="RunnerJsonSyntaxException"/> → InvalidJson (its predicate); <see cref="RunnerInputException"/> → InvalidInput (its message); an <see cref="OperationCanceledException"/>
    /// once <paramref name="cancellationToken"/> was cancelled → Cancelled; <see cref="RunnerResultException"/> →
    /// Failed <c>runner 'r' method 'm' &lt;message&gt;</c>; anything else → Failed <c>runner 'r' method 'm' failed</c>.
    /// A Failed result keeps the exception for the operator's log; the message never names a .NET type.
    /// </summary>
    public static ItemResult FromException(Exception exception, string runner, string method, CancellationToken cancellationToken) => exception switch
    {
        RunnerJsonSyntaxException syntax => ItemResult.Error(ItemStatus.InvalidJson, syntax.Message),
        RunnerInputException input => ItemResult.Error(ItemStatus.InvalidInput, input.Message),
        OperationCanceledException when cancellationToken.IsCancellationRequested => Cancelled,
        RunnerResultException result => ItemResult.Error(ItemStatus.Failed, $"runner '{runner}' method '{method}' {result.Message}", result.InnerException ?? result),
        _ => ItemResult.Error(ItemStatus.Failed, $"runner '{runner}' method '{method}' failed", exception),
    };

    /// <summary>The caller cancelled (its answer goes nowhere).</summary>
    public static ItemResult Cancelled { get; } = ItemResult.Error(ItemStatus.Cancelled, "the call was cancelled");

    /// <summary>Shed: the method's batch queue is full.</summary>
    public static ItemResult Overloaded(string runner, string method) =>
        ItemResult.Error(ItemStatus.Overloaded, $"runner '{runner}' method '{method}' has more requests waiting than it takes; retry later");

    /// <summary>The item's deadline passed while it waited for a batch.</summary>
    public static ItemResult TimedOut(string runner, string method) =>
        ItemResult.Error(ItemStatus.TimedOut, $"runner '{runner}' method '{method}' did not start the request before its deadline");

    /// <summary>The dispatcher is stopping and did not run the item.</summary>
    public static ItemResult Stopping(string runner) =>
        ItemResult.Error(ItemStatus.Stopping, $"runner '{runner}' is stopping and did not run the request; retry");
}
