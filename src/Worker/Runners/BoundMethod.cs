using System.Reflection;
using Serving.Worker.Batching;

namespace Serving.Worker.Runners;

/// <summary>
/// Invokes one runner method on one encoded payload and returns the encoded result.
/// When <paramref name="input"/> spans a whole array, a <c>byte[]</c> method receives that array
/// itself (no copy): callers pass memory they give up.
/// </summary>
internal delegate ValueTask<ReadOnlyMemory<byte>> RunnerInvoker(ReadOnlyMemory<byte> input, CancellationToken cancellationToken);

/// <summary>A [RunnerMethod] bound once at startup.</summary>
internal sealed class BoundMethod
{
    public BoundMethod(string runnerName, string name, MethodInfo method, Type inputType, Type outputType, RunnerInvoker invoke)
    {
        RunnerName = runnerName;
        Name = name;
        Method = method;
        InputType = inputType;
        OutputType = outputType;
        Invoke = invoke;
    }

    /// <summary>A batchable method: <paramref name="invoke"/> is a batch of one, <paramref name="invokeBatch"/> the batch call.</summary>
    public BoundMethod(string runnerName, string name, MethodInfo method, Type inputType, Type outputType, RunnerInvoker invoke,
        BatchInvoker invokeBatch, int maxBatchSize, TimeSpan maxLatency, bool splitsInstances)
        : this(runnerName, name, method, inputType, outputType, invoke)
    {
        InvokeBatch = invokeBatch;
        MaxBatchSize = maxBatchSize;
        MaxLatency = maxLatency;
        SplitsInstances = splitsInstances;
    }

    /// <summary>The runner's name in the manifest (messages name it).</summary>
    public string RunnerName { get; }

    public string Name { get; }
    public MethodInfo Method { get; }

    /// <summary>What one payload decodes to: the parameter type, or a batchable method's list element type.</summary>
    public Type InputType { get; }

    /// <summary>What one result is encoded from: the result type, or a batchable method's list element type.</summary>
    public Type OutputType { get; }

    /// <summary>
    /// The method takes its payload as it is (byte[], ReadOnlyMemory&lt;byte&gt;, string): nothing parses
    /// it, so a JSON API's body is checked with <see cref="JsonInputGate"/> before the call.
    /// </summary>
    public bool TakesRawInput => PayloadCodecs.IsRaw(InputType);

    /// <summary>
    /// One payload in, one result out. For a batchable method, a batch of one; and when
    /// <see cref="SplitsInstances"/>, an <c>{"instances":[…]}</c> payload is its elements, called in
    /// batches of at most <see cref="MaxBatchSize"/>, answered with the JSON array of their results
    /// (an element that fails fails the call, its message naming <c>$.instances[k]</c>).
    /// </summary>
    public RunnerInvoker Invoke { get; }

    /// <summary>[RunnerMethod(Batchable = true)]: <see cref="InvokeBatch"/> is set.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(InvokeBatch))]
    public bool Batchable => InvokeBatch is not null;

    /// <summary>The batch call (null unless <see cref="Batchable"/>); see <see cref="BatchInvoker"/>.</summary>
    public BatchInvoker? InvokeBatch { get; }

    /// <summary>The most inputs one call takes: the attribute's MaxBatchSize, 1 when not batchable.</summary>
    public int MaxBatchSize { get; } = 1;

    /// <summary>The attribute's MaxLatencyMs (zero when not batchable).</summary>
    public TimeSpan MaxLatency { get; }

    /// <summary>
    /// Batchable with JSON items both ways (not <c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c> or
    /// <c>string</c>): a JSON body <c>{"instances":[…]}</c> is split into its elements
    /// (<see cref="InstancesEnvelope"/>) and answered with the array of their results.
    /// </summary>
    public bool SplitsInstances { get; }
}
