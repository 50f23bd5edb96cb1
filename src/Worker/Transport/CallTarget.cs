using System.Buffers;
using Serving.Worker.Batching;
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

    /// <summary>
    /// The input as memory the method may read during the call: the frame's own bytes when they are
    /// contiguous and the method does not keep them; a copy when the method takes <c>byte[]</c> or
    /// <c>ReadOnlyMemory&lt;byte&gt;</c> (it may keep those past the call) or the bytes span buffers.
    /// </summary>
    protected ReadOnlyMemory<byte> InputFor(in ReadOnlySequence<byte> input)
    {
        if (input.IsSingleSegment && Method.InputType != typeof(byte[]) && Method.InputType != typeof(ReadOnlyMemory<byte>))
            return input.First;
        return input.ToArray();
    }
}

/// <summary>A method called once per call, on the connection's read loop when it completes synchronously.</summary>
internal sealed class DirectCallTarget(string runner, BoundMethod method) : CallTarget(runner, method)
{
    public override void Start(RunnerSession session, uint id, in ParsedCall call)
    {
        var cancellation = session.BeginCall(id, call.TimeoutMs);
        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            pending = Method.Invoke(InputFor(call.Input), cancellation.Token);
        }
        catch (Exception ex)
        {
            session.EndCall(id, CallOutcomes.FromException(ex, RunnerName, Method.Name, cancellation.Token), call.RequestId);
            return;
        }
        if (pending.IsCompletedSuccessfully)
        {
            session.EndCall(id, ItemResult.Ok(pending.Result), call.RequestId);
            return;
        }
        _ = AwaitAsync(session, id, pending, cancellation, call.RequestId);
    }

    private async Task AwaitAsync(RunnerSession session, uint id, ValueTask<ReadOnlyMemory<byte>> pending, CancellationTokenSource cancellation, string requestId)
    {
        ItemResult result;
        try
        {
            result = ItemResult.Ok(await pending.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            result = CallOutcomes.FromException(ex, RunnerName, Method.Name, cancellation.Token);
        }
        session.EndCall(id, result, requestId);
    }
}

/// <summary>How an exception of a runner method becomes a call's outcome; no stack trace or .NET type reaches a client.</summary>
internal static class CallOutcomes
{
    public static ItemResult FromException(Exception ex, string runner, string method, CancellationToken cancellation) => ex switch
    {
        Serving.Abstractions.RunnerInputException input => ItemResult.Error(ItemStatus.InvalidInput, input.Message),
        OperationCanceledException when cancellation.IsCancellationRequested => ItemResult.Error(ItemStatus.Cancelled, "the call was cancelled"),
        RunnerResultException result => ItemResult.Error(ItemStatus.Failed, $"runner '{runner}' method '{method}' {result.Message}", result.InnerException),
        _ => ItemResult.Error(ItemStatus.Failed, $"runner '{runner}' method '{method}' failed", ex),
    };
}
