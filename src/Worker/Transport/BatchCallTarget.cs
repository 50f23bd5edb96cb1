using System.Buffers;
using System.Diagnostics;
using Serving.Worker.Batching;
using Serving.Worker.Metrics;
using Serving.Worker.Runners;

namespace Serving.Worker.Transport;

/// <summary>
/// A batchable method: every call (from any API worker's connection) joins its
/// <see cref="BatchDispatcher"/>'s queue, so one model call serves requests from all of them. An
/// <c>{"instances":[…]}</c> call joins as its elements, and is answered with the array of their
/// outputs once all are done (or with the first element's failure, naming <c>$.instances[k]</c>).
/// </summary>
internal sealed class BatchCallTarget : CallTarget, IAsyncDisposable
{
    private readonly BatchDispatcher _dispatcher;

    public BatchCallTarget(string runner, BoundMethod method, BatchingOptions options, ILogger log, BatchMetrics? metrics = null) : base(runner, method)
    {
        _dispatcher = new BatchDispatcher(method, options, TimeProvider.System, log, metrics);
    }

    public BatchDispatcher Dispatcher => _dispatcher;

    public override void Start(RunnerSession session, uint id, in ParsedCall call)
    {
        // The item waits in a queue: it needs bytes of its own, not a slice of the connection's buffer.
        var input = (ReadOnlyMemory<byte>)call.Input.ToArray();
        // The deadline is the dispatcher's to keep (TimedOut, without running): no timer on the token.
        var cancellation = session.BeginCall(id, timeoutMs: 0);
        var deadline = call.TimeoutMs == 0
            ? long.MaxValue
            : TimeProvider.System.GetTimestamp() + (long)call.TimeoutMs * Stopwatch.Frequency / 1000;

        if ((call.Flags & CallHeader.InstancesAllowed) != 0 && Method.SplitsInstances
            && InstancesEnvelope.TrySplit(input, out var instances, out var invalid))
        {
            if (invalid is not null)
            {
                session.EndCall(id, ItemResult.Error(ItemStatus.InvalidInput, invalid), call.RequestId);
                return;
            }
            var envelope = new EnvelopeCall(this, session, id, call.RequestId, instances.Length);
            var items = new BatchItem[instances.Length];
            for (var i = 0; i < items.Length; i++)
                items[i] = new ElementItem(envelope, i) { Input = instances[i], Deadline = deadline, Cancellation = cancellation.Token };
            _dispatcher.Enqueue(items);
            return;
        }
        _dispatcher.Enqueue([new CallItem(this, session, id, call.RequestId) { Input = input, Deadline = deadline, Cancellation = cancellation.Token }]);
    }

    public override async ValueTask DrainAsync() => await _dispatcher.DrainAsync().ConfigureAwait(false);

    public ValueTask DisposeAsync() => _dispatcher.DisposeAsync();

    /// <summary>Ends a call; a shed one carries the dispatcher's retry hint.</summary>
    private void End(RunnerSession session, uint id, in ItemResult result, string requestId)
    {
        var retryAfter = result.Status == ItemStatus.Overloaded ? (uint)_dispatcher.SuggestedRetryAfter.TotalMilliseconds : 0u;
        session.EndCall(id, result, requestId, retryAfter);
    }

    /// <summary>A call that is one item.</summary>
    private sealed class CallItem(BatchCallTarget target, RunnerSession session, uint id, string requestId) : BatchItem
    {
        public override void Complete(in ItemResult result) => target.End(session, id, result, requestId);
    }

    /// <summary>One element of an <c>instances</c> call.</summary>
    private sealed class ElementItem(EnvelopeCall envelope, int index) : BatchItem
    {
        public override void Complete(in ItemResult result) => envelope.Complete(index, result);
    }

    /// <summary>An <c>instances</c> call: answered when its last element completes.</summary>
    private sealed class EnvelopeCall(BatchCallTarget target, RunnerSession session, uint id, string requestId, int count)
    {
        private readonly ReadOnlyMemory<byte>[] _outputs = new ReadOnlyMemory<byte>[count];
        private int _pending = count;
        private int _firstFailure = -1;
        private ItemResult _failure;

        public void Complete(int index, in ItemResult result)
        {
            if (result.Status == ItemStatus.Ok)
            {
                // The output may live in a buffer the dispatcher reuses after this returns.
                _outputs[index] = result.Output.ToArray();
            }
            else
            {
                lock (_outputs)
                {
                    if (_firstFailure < 0 || index < _firstFailure)
                    {
                        _firstFailure = index;
                        _failure = result.Status is ItemStatus.InvalidInput or ItemStatus.Failed
                            ? ItemResult.Error(result.Status, InstancesEnvelope.AtInstance(result.Message ?? "", index), result.Exception)
                            : result;
                    }
                }
            }
            if (Interlocked.Decrement(ref _pending) != 0)
                return;
            if (_firstFailure >= 0)
                target.End(session, id, _failure, requestId);
            else
                target.End(session, id, ItemResult.Ok(InstancesEnvelope.Join(_outputs)), requestId);
        }
    }
}
