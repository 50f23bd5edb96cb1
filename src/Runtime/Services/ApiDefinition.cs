namespace Serving.Runtime.Services;

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
