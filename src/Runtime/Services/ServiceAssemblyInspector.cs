using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Serving.Runtime.Services;

/// <summary>
/// Checks, before any process starts, that a service's assemblies exist and define the runner
/// types and methods its manifest names. It reads assembly metadata only (System.Reflection.Metadata):
/// nothing is loaded into pwsh, so a user's dependencies can never clash with PowerShell's.
/// </summary>
public static class ServiceAssemblyInspector
{
    private const string RunnerMethodAttribute = "RunnerMethodAttribute";
    private const string AbstractionsNamespace = "Serving.Abstractions";

    /// <summary>
    /// Throws <see cref="ServingException"/> for an assembly missing or unreadable, a runner type or method the
    /// assemblies do not define, or batching keys on a method that is not batchable. Returns the service with
    /// each runner's <see cref="RunnerDefinition.Batchable"/> as its type or model says.
    /// </summary>
    public static ServiceDefinition Verify(ServiceDefinition service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var types = new Dictionary<string, Dictionary<string, bool>>(StringComparer.Ordinal);
        foreach (var path in service.Assemblies)
        {
            if (!File.Exists(path))
                throw new ServingException(ErrorIds.ServiceAssemblyNotFound, ServingErrorKind.ObjectNotFound,
                    $"{service.ManifestPath}: the assembly '{path}' does not exist. Build the runner project, or fix the path in Assemblies (it is relative to the manifest).",
                    path);
            try
            {
                ReadRunnerMethods(path, types);
            }
            catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                throw new ServingException(ErrorIds.ServiceAssemblyNotFound, ServingErrorKind.InvalidData,
                    $"{service.ManifestPath}: '{path}' is not a readable .NET assembly: {e.Message}", path, e);
            }
        }

        var verified = new RunnerDefinition[service.Runners.Length];
        for (var i = 0; i < verified.Length; i++)
        {
            var runner = service.Runners[i];
            // A no-code runner: its model stands where a type would.
            if (runner.IsOnnx)
            {
                verified[i] = runner with { Batchable = Onnx.OnnxRunnerInspector.IsBatchable(Onnx.OnnxRunnerInspector.Verify(service, runner)) };
                continue;
            }
            if (!types.TryGetValue(runner.Type, out var methods))
                throw new ServingException(ErrorIds.RunnerTypeNotFound, ServingErrorKind.ObjectNotFound,
                    $"{service.ManifestPath}: runner '{runner.Name}' names the type '{runner.Type}', which no assembly in Assemblies defines " +
                    $"as a public class deriving from {AbstractionsNamespace}.Runner. Assemblies searched: {string.Join(", ", service.Assemblies)}.",
                    runner.Type);
            foreach (var api in service.Apis)
            {
                if (api.Runner != runner.Name) continue;
                if (!methods.TryGetValue(api.Method, out var batchable))
                    throw new ServingException(ErrorIds.RunnerTypeNotFound, ServingErrorKind.ObjectNotFound,
                        $"{service.ManifestPath}: API '{api.Route}' calls method '{api.Method}' of runner '{runner.Name}', but '{runner.Type}' has no " +
                        $"[RunnerMethod] of that name. It has: {(methods.Count == 0 ? "none" : string.Join(", ", methods.Keys.Order(StringComparer.Ordinal)))}.",
                        api.Method);
                if (!batchable && (api.MaxBatchSize is not null || api.MaxLatencyMs is not null))
                    throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                        $"{service.ManifestPath}: API '{api.Route}' sets {(api.MaxBatchSize is not null ? "MaxBatchSize" : "MaxLatencyMs")}, but method " +
                        $"'{api.Method}' of '{runner.Type}' is not batchable. Mark it [RunnerMethod(Batchable = true)] (taking a list of inputs), or remove the key.",
                        api.Route);
            }
            verified[i] = runner with { Batchable = methods.ContainsValue(true) };
        }
        return service with { Runners = verified };
    }

    /// <summary>Adds every public non-abstract runner class of the assembly with its [RunnerMethod] names (and whether each is batchable).</summary>
    private static void ReadRunnerMethods(string path, Dictionary<string, Dictionary<string, bool>> types)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) throw new BadImageFormatException("no .NET metadata");
        var md = pe.GetMetadataReader();

        // Local classes by handle, to walk base types defined in the same assembly.
        foreach (var handle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(handle);
            var attrs = type.Attributes;
            if ((attrs & System.Reflection.TypeAttributes.Abstract) != 0) continue;
            if ((attrs & System.Reflection.TypeAttributes.VisibilityMask) != System.Reflection.TypeAttributes.Public) continue;
            // Method names match case-insensitively, as the worker binds them.
            var methods = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
            if (!CollectRunner(md, handle, methods, depth: 0)) continue;
            types[FullName(md, type)] = methods;
        }
    }

    /// <summary>Collects methods up the base chain; true when the chain reaches Serving.Abstractions.Runner.</summary>
    private static bool CollectRunner(MetadataReader md, TypeDefinitionHandle handle, Dictionary<string, bool> methods, int depth)
    {
        if (depth > 32) return false;
        var type = md.GetTypeDefinition(handle);
        foreach (var mh in type.GetMethods())
        {
            var method = md.GetMethodDefinition(mh);
            foreach (var ah in method.GetCustomAttributes())
            {
                var attr = md.GetCustomAttribute(ah);
                if (AttributeTypeName(md, attr) != RunnerMethodAttribute) continue;
                var reader = md.GetBlobReader(attr.Value);
                string? name = null;
                var batchable = false;
                if (reader.Length >= 2 && reader.ReadUInt16() == 1 && reader.RemainingBytes > 0)
                {
                    name = reader.ReadSerializedString();
                    batchable = ReadBatchable(ref reader);
                }
                methods.TryAdd(string.IsNullOrEmpty(name) ? md.GetString(method.Name) : name, batchable);
            }
        }

        var baseHandle = type.BaseType;
        if (baseHandle.IsNil) return false;
        switch (baseHandle.Kind)
        {
            case HandleKind.TypeReference:
                var tr = md.GetTypeReference((TypeReferenceHandle)baseHandle);
                return md.GetString(tr.Name) == "Runner" && md.GetString(tr.Namespace) == AbstractionsNamespace;
            case HandleKind.TypeDefinition:
                var td = md.GetTypeDefinition((TypeDefinitionHandle)baseHandle);
                if (md.GetString(td.Name) == "Runner" && md.GetString(td.Namespace) == AbstractionsNamespace) return true;
                return CollectRunner(md, (TypeDefinitionHandle)baseHandle, methods, depth + 1);
            default:
                return false; // a generic base instantiation: not supported as a runner base
        }
    }

    /// <summary>
    /// Reads the named arguments of a [RunnerMethod] blob (ECMA-335 II.23.3) for <c>Batchable = true</c>;
    /// stops, answering false, at a kind of value it does not need to understand.
    /// </summary>
    private static bool ReadBatchable(ref BlobReader reader)
    {
        if (reader.RemainingBytes < 2) return false;
        var count = reader.ReadUInt16();
        var batchable = false;
        for (var i = 0; i < count && reader.RemainingBytes > 0; i++)
        {
            reader.ReadByte(); // 0x53 field or 0x54 property
            var type = reader.ReadByte();
            var name = reader.ReadSerializedString();
            switch (type)
            {
                case 0x02: // bool
                    var value = reader.ReadBoolean();
                    if (name == "Batchable") batchable = value;
                    break;
                case 0x08: // int32
                    reader.ReadInt32();
                    break;
                default:
                    return batchable;
            }
        }
        return batchable;
    }

    private static string AttributeTypeName(MetadataReader md, CustomAttribute attr)
    {
        EntityHandle parent = attr.Constructor.Kind switch
        {
            HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)attr.Constructor).Parent,
            HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)attr.Constructor).GetDeclaringType(),
            _ => default,
        };
        return parent.Kind switch
        {
            HandleKind.TypeReference => md.GetString(md.GetTypeReference((TypeReferenceHandle)parent).Name),
            HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)parent).Name),
            _ => "",
        };
    }

    private static string FullName(MetadataReader md, TypeDefinition type)
    {
        var name = md.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil) return FullName(md, md.GetTypeDefinition(declaring)) + "+" + name;
        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
