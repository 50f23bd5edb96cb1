namespace Serving.Abstractions;

/// <summary>Marks a public instance method of a <see cref="Runner"/> as callable by APIs.</summary>
/// <example>
/// <code>
/// [RunnerMethod("classify", Batchable = true, MaxBatchSize = 64, MaxLatencyMs = 10)]
/// public Prediction[] Classify(IReadOnlyList&lt;Flower&gt; flowers) { … }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RunnerMethodAttribute : Attribute
{
    /// <param name="name">The name APIs use for this method; the C# method name when omitted.</param>
    public RunnerMethodAttribute(string? name = null) => Name = name;

    /// <summary>The name APIs use for this method, or null for the C# method name.</summary>
    public string? Name { get; }

    /// <summary>
    /// The method takes a list of inputs and returns a list of outputs, one per input and in the same
    /// order; the host gathers concurrent requests into one call (adaptive batching) and a JSON API also
    /// accepts <c>{"instances":[…]}</c>, one item per element. Calls of one batchable method are made one
    /// at a time per worker: the host's batching is what makes use of the model's parallelism.
    /// See <see cref="Runner"/> for the shapes.
    /// </summary>
    public bool Batchable { get; set; }

    /// <summary>
    /// The most inputs one call receives (1 to 4096; batchable methods only). A service manifest's
    /// API entry may lower or raise it with <c>MaxBatchSize</c>.
    /// </summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// In milliseconds, the bound on the time the host holds an input back waiting for others plus
    /// the predicted run time of its call (0 to 60000; 0 never holds; batchable methods only). The host
    /// holds inputs only while it expects the wait to pay off, and never past this bound; time spent
    /// queued behind a call already running is not held back and is not bounded by it. A service
    /// manifest's API entry may change it with <c>MaxLatencyMs</c>.
    /// </summary>
    public int MaxLatencyMs { get; set; } = 10;
}
