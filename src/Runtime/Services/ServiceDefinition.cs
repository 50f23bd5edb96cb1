namespace Serving.Runtime.Services;

/// <summary>A validated service: runners + APIs, with absolute assembly paths.</summary>
public sealed record ServiceDefinition
{
    public string Name { get; init; } = "";
    /// <summary>The manifest file this came from (absolute).</summary>
    public string ManifestPath { get; init; } = "";
    /// <summary>The directory of the manifest; runners resolve their files against it.</summary>
    public string Directory { get; init; } = "";
    /// <summary>
    /// The runner project the manifest names (<c>Project</c>, absolute), built by <see cref="ServiceProjectBuilder"/>
    /// before the service is verified; null when the manifest names assemblies only.
    /// </summary>
    public string? Project { get; init; }
    /// <summary>Absolute paths of the assemblies holding the runner types (a built project's included, once built).</summary>
    public string[] Assemblies { get; init; } = Array.Empty<string>();
    public RunnerDefinition[] Runners { get; init; } = Array.Empty<RunnerDefinition>();
    public ApiDefinition[] Apis { get; init; } = Array.Empty<ApiDefinition>();

    public static ServiceDefinition Empty { get; } = new();
}
