using System.Reflection;
using System.Runtime.Loader;
using Serving.Abstractions;

namespace Serving.Worker.Runners;

/// <summary>
/// Loads the service's assemblies in isolation: each one's own dependencies resolve from its
/// directory (via its .deps.json when present), while <c>Serving.Abstractions</c> is shared with the
/// worker so that <see cref="Runner"/> is one type on both sides.
/// </summary>
internal sealed class ServiceLoadContext : AssemblyLoadContext
{
    private static readonly Assembly SharedAbstractions = typeof(Runner).Assembly;
    private static readonly string SharedName = SharedAbstractions.GetName().Name!;

    private readonly List<AssemblyDependencyResolver> _resolvers = [];
    private readonly List<string> _directories = [];

    public ServiceLoadContext(string serviceName) : base($"serving-service:{serviceName}", isCollectible: false) { }

    /// <summary>Loads one of the service's assemblies (an absolute path).</summary>
    public Assembly LoadServiceAssembly(string path)
    {
        try
        {
            _resolvers.Add(new AssemblyDependencyResolver(path));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // No usable .deps.json: fall back to probing the assembly's directory.
        }
        var directory = Path.GetDirectoryName(path);
        if (directory is not null && !_directories.Contains(directory))
            _directories.Add(directory);
        return LoadFromAssemblyPath(path);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.Equals(assemblyName.Name, SharedName, StringComparison.OrdinalIgnoreCase))
            return SharedAbstractions;

        foreach (var resolver in _resolvers)
        {
            var path = resolver.ResolveAssemblyToPath(assemblyName);
            if (path is not null)
                return LoadFromAssemblyPath(path);
        }

        // Without a .deps.json, an assembly beside the service's own is its dependency, unless the
        // framework (the default context) provides it.
        if (assemblyName.Name is { } name)
        {
            foreach (var directory in _directories)
            {
                var candidate = Path.Combine(directory, name + ".dll");
                if (File.Exists(candidate) && !IsFrameworkAssembly(assemblyName))
                    return LoadFromAssemblyPath(candidate);
            }
        }
        return null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var resolver in _resolvers)
        {
            var path = resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
            if (path is not null)
                return LoadUnmanagedDllFromPath(path);
        }
        return IntPtr.Zero;
    }

    private static bool IsFrameworkAssembly(AssemblyName name)
    {
        try
        {
            Default.LoadFromAssemblyName(name);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return false;
        }
    }
}
