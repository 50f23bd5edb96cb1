namespace Serving;

/// <summary>One runner of a service, as its manifest declares it.</summary>
public sealed class RunnerDefinition
{
    public string Name { get; init; } = "";
    /// <summary>The full name of a class deriving from Serving.Abstractions.Runner.</summary>
    public string Type { get; init; } = "";
    public int Workers { get; init; } = 1;
    /// <summary>Environment for every worker of this runner.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>Environment per worker (index − 1); may be shorter than <see cref="Workers"/>.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> WorkerEnvironment { get; init; } =
        Array.Empty<IReadOnlyDictionary<string, string>>();
}

/// <summary>One API: a route bound to a runner method.</summary>
public sealed class ApiDefinition
{
    public string Route { get; init; } = "";
    public string Runner { get; init; } = "";
    public string Method { get; init; } = "";
    public PayloadKind Input { get; init; } = PayloadKind.Json;
    public PayloadKind Output { get; init; } = PayloadKind.Json;
    /// <summary>Overrides the batchable method's MaxBatchSize for this API (1 turns batching off); null: the method's.</summary>
    public int? MaxBatchSize { get; init; }
    /// <summary>Overrides the batchable method's MaxLatencyMs for this API; null: the method's.</summary>
    public int? MaxLatencyMs { get; init; }
}

/// <summary>A validated service: runners + APIs, with absolute assembly paths.</summary>
public sealed class ServiceDefinition
{
    public string Name { get; init; } = "";
    /// <summary>The manifest file this came from (absolute).</summary>
    public string ManifestPath { get; init; } = "";
    /// <summary>The directory of the manifest; runners resolve their files against it.</summary>
    public string Directory { get; init; } = "";
    /// <summary>Absolute paths of the assemblies holding the runner types.</summary>
    public string[] Assemblies { get; init; } = Array.Empty<string>();
    public RunnerDefinition[] Runners { get; init; } = Array.Empty<RunnerDefinition>();
    public ApiDefinition[] Apis { get; init; } = Array.Empty<ApiDefinition>();

    public static ServiceDefinition Empty { get; } = new();
}
