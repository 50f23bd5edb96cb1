namespace Serving.Runtime.Planning;

/// <summary>One runner's part of a plan.</summary>
public sealed record RunnerPlan
{
    public string Name { get; init; } = "";
    /// <summary>Worker processes for this runner (0 in development mode: it runs in the API process).</summary>
    public int Workers { get; init; }
    public RunnerTransport Transport { get; init; }
    /// <summary>Whether any of its methods takes batches (<see cref="RunnerDefinition.Batchable"/>).</summary>
    public bool Batchable { get; init; }
    /// <summary>A Unix socket path, "127.0.0.1:port" (port 0 = assigned when bound), or "in-process".</summary>
    public string Endpoint { get; init; } = "";
}
