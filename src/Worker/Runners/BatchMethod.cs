using System.Globalization;
using System.Runtime.ExceptionServices;
using Serving.Abstractions;
using Serving.Worker.Batching;

namespace Serving.Worker.Runners;

/// <summary>
/// A batchable [RunnerMethod] bound to its element decoder and encoder (<see cref="MethodBinder"/>):
/// the batch call with per-item results and isolation (<see cref="InvokeBatch"/>), and the single-payload
/// call other paths use (<see cref="Invoke"/>: a batch of one, or an <c>{"instances":[…]}</c> envelope).
/// </summary>
/// <param name="call">The method over exactly the given inputs; its result list as it returned it (null for null).</param>
internal sealed class BatchMethod<TIn, TOut>(string runner, string method, int maxBatchSize, bool splitsInstances,
    Func<ReadOnlyMemory<byte>, TIn> decode, Func<TOut, ReadOnlyMemory<byte>> encode,
    Func<TIn[], CancellationToken, ValueTask<IReadOnlyList<TOut>?>> call)
{
    /// <inheritdoc cref="RunnerInvoker"/>
    /// <remarks>
    /// Exceptions are those of a single method's invoker (<see cref="RunnerInputException"/>,
    /// <see cref="RunnerResultException"/>, the method's own), so callers map them alike.
    /// </remarks>
    public ValueTask<ReadOnlyMemory<byte>> Invoke(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        if (splitsInstances && InstancesEnvelope.TrySplit(input, out var instances, out var invalid))
            return invalid is null ? InvokeInstancesAsync(instances, cancellationToken) : throw new RunnerInputException(invalid);

        var pending = call([decode(input)], cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<ReadOnlyMemory<byte>>(EncodeOne(pending.Result)) : AwaitOneAsync(pending);
    }

    private async ValueTask<ReadOnlyMemory<byte>> AwaitOneAsync(ValueTask<IReadOnlyList<TOut>?> pending) =>
        EncodeOne(await pending.ConfigureAwait(false));

    private ReadOnlyMemory<byte> EncodeOne(IReadOnlyList<TOut>? outputs) =>
        outputs is { Count: 1 } ? encode(outputs[0]) : throw WrongLength(outputs, 1);

    /// <summary>
    /// The elements of an envelope, in calls of at most MaxBatchSize (this path has no dispatcher: the
    /// request is its own batch). The first element at fault fails the request: input the method cannot
    /// take before a failure of the runner, each naming <c>$.instances[k]</c>.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>> InvokeInstancesAsync(ReadOnlyMemory<byte>[] instances, CancellationToken cancellationToken)
    {
        var values = new TIn[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            try
            {
                values[i] = decode(instances[i]);
            }
            catch (RunnerInputException ex)
            {
                throw new RunnerInputException(InstancesEnvelope.AtInstance(ex.Message, i), ex);
            }
        }

        var outputs = new ReadOnlyMemory<byte>[values.Length];
        var errors = new Exception?[values.Length];
        for (var start = 0; start < values.Length; start += maxBatchSize)
            await RunAsync(values, start, Math.Min(maxBatchSize, values.Length - start), outputs, errors, cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < errors.Length; i++)
        {
            if (errors[i] is RunnerInputException input)
                throw new RunnerInputException(InstancesEnvelope.AtInstance(input.Message, i), input);
        }
        foreach (var error in errors)
        {
            if (error is not null)
                ExceptionDispatchInfo.Throw(error);
        }
        return InstancesEnvelope.Join(outputs);
    }

    /// <inheritdoc cref="BatchInvoker"/>
    public async ValueTask<int> InvokeBatch(ReadOnlyMemory<ReadOnlyMemory<byte>> inputs, Memory<ItemResult> results, CancellationToken cancellationToken)
    {
        var count = inputs.Length;
        var values = new TIn[count];
        // values[j] came from inputs[slots[j]]: inputs that do not decode are left out of the call.
        var slots = new int[count];
        var decoded = 0;
        for (var i = 0; i < count; i++)
        {
            try
            {
                values[decoded] = decode(inputs.Span[i]);
                slots[decoded++] = i;
            }
            catch (Exception ex)
            {
                results.Span[i] = ItemResults.FromException(ex, runner, method, cancellationToken);
            }
        }
        if (decoded == 0)
            return 0;
        if (decoded < count)
            Array.Resize(ref values, decoded);

        var outputs = new ReadOnlyMemory<byte>[decoded];
        var errors = new Exception?[decoded];
        var calls = await RunAsync(values, 0, decoded, outputs, errors, cancellationToken).ConfigureAwait(false);
        for (var j = 0; j < decoded; j++)
        {
            results.Span[slots[j]] = errors[j] is { } error
                ? ItemResults.FromException(error, runner, method, cancellationToken)
                : ItemResult.Ok(outputs[j]);
        }
        return calls;
    }

    /// <summary>
    /// Calls the method on <c>values[start..start+count]</c> and fills the same range of
    /// <paramref name="outputs"/> or <paramref name="errors"/>. A call that throws is isolated by
    /// halving (see <see cref="BatchInvoker"/>); returns the number of calls made.
    /// </summary>
    private async ValueTask<int> RunAsync(TIn[] values, int start, int count, ReadOnlyMemory<byte>[] outputs, Exception?[] errors, CancellationToken cancellationToken)
    {
        IReadOnlyList<TOut>? results;
        try
        {
            // A fresh array per call: a method that reorders its input in place cannot change what
            // an isolating call after it passes.
            results = await call(values.AsSpan(start, count).ToArray(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (count == 1 || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Array.Fill(errors, ex, start, count);
            return 1;
        }
        catch (Exception)
        {
            var half = count / 2;
            var calls = 1 + await RunAsync(values, start, half, outputs, errors, cancellationToken).ConfigureAwait(false);
            return calls + await RunAsync(values, start + half, count - half, outputs, errors, cancellationToken).ConfigureAwait(false);
        }

        if (results is null || results.Count != count)
        {
            Array.Fill(errors, WrongLength(results, count), start, count);
            return 1;
        }
        for (var j = 0; j < count; j++)
        {
            try
            {
                outputs[start + j] = encode(results[j]);
            }
            catch (Exception ex)
            {
                errors[start + j] = ex;
            }
        }
        return 1;
    }

    private static RunnerResultException WrongLength(IReadOnlyList<TOut>? outputs, int inputs) => new(outputs is null
        ? string.Create(CultureInfo.InvariantCulture, $"returned null for {inputs} {(inputs == 1 ? "input" : "inputs")}")
        : string.Create(CultureInfo.InvariantCulture, $"returned {outputs.Count} {(outputs.Count == 1 ? "output" : "outputs")} for {inputs} {(inputs == 1 ? "input" : "inputs")}"));
}
