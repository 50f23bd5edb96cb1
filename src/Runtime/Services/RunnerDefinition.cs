namespace Serving.Runtime.Services;

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
