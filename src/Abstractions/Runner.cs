using System.Text.Json;

namespace Serving.Abstractions;

/// <summary>
/// Base class of every runner. A runner worker process creates one instance, calls
/// <see cref="InitializeAsync"/> once before it serves, then invokes the methods marked
/// with <see cref="RunnerMethodAttribute"/> concurrently for each request.
/// </summary>
/// <remarks>
/// A runner method has one of these shapes (TIn/TOut: <c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>,
/// <c>string</c>, or any type System.Text.Json can (de)serialise):
/// <code>
/// [RunnerMethod] public TOut M(TIn input)
/// [RunnerMethod] public Task&lt;TOut&gt; M(TIn input, CancellationToken cancellationToken)
/// [RunnerMethod] public ValueTask&lt;TOut&gt; M(TIn input, CancellationToken cancellationToken)
/// </code>
/// Methods must be safe to call concurrently. Throw <see cref="RunnerInputException"/> for bad
/// input (the caller sees 400 / INVALID_ARGUMENT); any other exception is reported as an
/// internal error without its stack trace.
/// <para>
/// A batchable method (<c>[RunnerMethod(Batchable = true)]</c>) takes a list of inputs and returns
/// one output per input, in the same order. The list is <c>IReadOnlyList&lt;TIn&gt;</c>,
/// <c>IList&lt;TIn&gt;</c>, <c>List&lt;TIn&gt;</c> or <c>TIn[]</c>; the result any of those (or any
/// other <c>IReadOnlyList&lt;TOut&gt;</c>), returned directly or as <c>Task</c>/<c>ValueTask</c>,
/// with an optional trailing <c>CancellationToken</c>; TIn/TOut as above:
/// <code>
/// [RunnerMethod(Batchable = true)] public TOut[] M(IReadOnlyList&lt;TIn&gt; inputs)
/// [RunnerMethod(Batchable = true, MaxBatchSize = 32, MaxLatencyMs = 5)]
/// public Task&lt;IReadOnlyList&lt;TOut&gt;&gt; M(TIn[] inputs, CancellationToken cancellationToken)
/// </code>
/// The host decodes each input on its own (one that does not fit fails only its own request and
/// is left out of the call), calls the method with at most <see cref="RunnerMethodAttribute.MaxBatchSize"/>
/// inputs, one call at a time per worker, and encodes each output on its own. A result of the wrong
/// length fails every request of that call. When a call throws, the host calls the method again on
/// smaller parts of the batch, down to single inputs, so that only the inputs that fail on their own
/// fail; a method should therefore throw <see cref="RunnerInputException"/> for the input at fault, and
/// may be called more than once for an input. The token is cancelled only when every request of the
/// batch was cancelled.
/// </para>
/// </remarks>
public abstract class Runner : IAsyncDisposable
{
    /// <summary>
    /// Options used to (de)serialise JSON inputs and outputs of this runner's methods. Override to
    /// supply a source-generated <c>JsonSerializerContext</c> (fastest) or custom converters.
    /// The default is <see cref="JsonSerializerDefaults.Web"/> (camelCase, case-insensitive).
    /// </summary>
    public virtual JsonSerializerOptions JsonOptions => DefaultJsonOptions;

    /// <summary>The options used when a runner does not override <see cref="JsonOptions"/>.</summary>
    public static JsonSerializerOptions DefaultJsonOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Called once per worker process before the first call; load models here.</summary>
    public virtual ValueTask InitializeAsync(RunnerContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called once when the worker stops.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
