namespace Serving.Runtime.Services;

/// <summary>One runner of a service, as its manifest declares it.</summary>
public sealed record RunnerDefinition
{
    public string Name { get; init; } = "";
    /// <summary>The full name of a class deriving from Serving.Abstractions.Runner; "" for an ONNX runner.</summary>
    public string Type { get; init; } = "";
    /// <summary>
    /// The absolute path of the ONNX model a no-code runner serves (the manifest's <c>Onnx</c>, relative to
    /// the manifest); "" for a runner with a <see cref="Type"/>. Exactly one of the two is set.
    /// </summary>
    public string Onnx { get; init; } = "";
    /// <summary>OnnxRuntime's threads within one operator, per worker (ONNX runners only); null: OnnxRuntime's default (one per core).</summary>
    public int? IntraOpThreads { get; init; }
    /// <summary>True for a no-code ONNX runner (<see cref="Onnx"/> set).</summary>
    public bool IsOnnx => Onnx.Length > 0;
    public int Workers { get; init; } = 1;
    /// <summary>
    /// Whether any of its methods takes batches: a [RunnerMethod(Batchable = true)] in its type, or an ONNX model
    /// with an open first axis. Read from the assembly or the model by <see cref="ServiceAssemblyInspector.Verify"/>;
    /// false in a definition not verified.
    /// </summary>
    public bool Batchable { get; init; }
    /// <summary>Environment for every worker of this runner.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>Environment per worker (index − 1); may be shorter than <see cref="Workers"/>.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> WorkerEnvironment { get; init; } =
        Array.Empty<IReadOnlyDictionary<string, string>>();
}
