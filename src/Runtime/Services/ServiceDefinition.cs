namespace Serving.Runtime.Services;

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
