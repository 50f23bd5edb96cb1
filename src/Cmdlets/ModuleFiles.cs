namespace Serving.Cmdlets;

/// <summary>Where the staged module's own files are (out/Serving/ and its subfolders).</summary>
internal static class ModuleFiles
{
    public static string ModuleBase { get; } =
        Path.GetDirectoryName(typeof(ModuleFiles).Assembly.Location) ?? AppContext.BaseDirectory;

    /// <summary>The runner contract this module's workers load, for service projects to compile against.</summary>
    public static string Abstractions => Path.Combine(ModuleBase, "lib", "Serving.Abstractions.dll");

    /// <summary>The embedded demo service's manifest.</summary>
    public static string DemoManifest => Path.Combine(ModuleBase, "demo", "Demo.psd1");

    /// <summary>Resolves -Service: a .psd1 path, or a directory holding exactly one .psd1; null = the demo.</summary>
    public static string ResolveManifest(string? service)
    {
        if (string.IsNullOrEmpty(service)) return DemoManifest;
        var full = Path.GetFullPath(service);
        if (Directory.Exists(full))
        {
            var candidates = Directory.GetFiles(full, "*.psd1");
            if (candidates.Length == 1) return candidates[0];
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.ObjectNotFound,
                candidates.Length == 0
                    ? $"The directory '{full}' holds no service manifest (.psd1). Pass the manifest's path."
                    : $"The directory '{full}' holds {candidates.Length} .psd1 files; pass the manifest's path itself.",
                full);
        }
        return full;
    }

    /// <summary>
    /// Reads, validates and verifies a service: manifest keys, its Project built (each line of the build to
    /// <paramref name="buildOutput"/>), assemblies, runner types and methods.
    /// </summary>
    public static ServiceDefinition LoadService(string? service, Action<string>? buildOutput = null)
    {
        var path = ResolveManifest(service);
        var definition = ServiceProjectBuilder.Build(ServiceManifest.Parse(PowerShellValues.ReadDataFile(path), path), buildOutput,
            abstractions: File.Exists(Abstractions) ? Abstractions : null);
        return ServiceAssemblyInspector.Verify(definition);
    }
}
