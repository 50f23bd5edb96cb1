using System.Buffers;
using Serving.Worker.Batching;
using Serving.Worker.Runners;

namespace Serving.Worker.Transport;

/// <summary>
/// A method called once per call, on the thread pool: never on the connection's read loop, where a
/// method that blocks would hold up every other call, cancel and ping on the connection.
/// </summary>
internal sealed class DirectCallTarget(string runner, BoundMethod method) : CallTarget(runner, method)
{
    public override void Start(RunnerSession session, uint id, in ParsedCall call)
    {
        // Runs after the read loop moved on: the input needs bytes of its own.
        var work = new DirectCall(this, session, id, call.RequestId, call.Input.ToArray(), session.BeginCall(id, call.TimeoutMs));
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
    }

    private void Run(DirectCall call)
    {
        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            pending = Method.Invoke(call.Input, call.Cancellation.Token);
        }
        catch (Exception ex)
        {
            call.Session.EndCall(call.Id, ItemResults.FromException(ex, RunnerName, Method.Name, call.Cancellation.Token), call.RequestId);
            return;
        }
        if (pending.IsCompletedSuccessfully)
        {
            call.Session.EndCall(call.Id, ItemResult.Ok(pending.Result), call.RequestId);
            return;
        }
        _ = AwaitAsync(call, pending);
    }

    private async Task AwaitAsync(DirectCall call, ValueTask<ReadOnlyMemory<byte>> pending)
    {
        ItemResult result;
        try
        {
            result = ItemResult.Ok(await pending.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            result = ItemResults.FromException(ex, RunnerName, Method.Name, call.Cancellation.Token);
        }
        call.Session.EndCall(call.Id, result, call.RequestId);
    }

    private sealed class DirectCall(DirectCallTarget target, RunnerSession session, uint id, string requestId, byte[] input,
        CancellationTokenSource cancellation) : IThreadPoolWorkItem
    {
        public RunnerSession Session { get; } = session;
        public uint Id { get; } = id;
        public string RequestId { get; } = requestId;
        public byte[] Input { get; } = input;
        public CancellationTokenSource Cancellation { get; } = cancellation;

        public void Execute() => target.Run(this);
    }
}
