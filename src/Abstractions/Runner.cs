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
