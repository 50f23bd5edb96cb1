using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Serving.Runtime.Services;

/// <summary>
/// Turns the data of a service manifest (.psd1, already read into dictionaries by the cmdlet)
/// into a validated <see cref="ServiceDefinition"/>. Every problem is a terminating error that
/// names the file and the entry, raised before any process starts.
/// </summary>
public static class ServiceManifest
{
    private static readonly string[] TopKeys = { "Name", "Assemblies", "Project", "Runners", "Apis", "Description", "Version" };
    private static readonly string[] RunnerKeys = { "Name", "Type", "Onnx", "Workers", "IntraOpThreads", "Environment", "WorkerEnvironment" };
    private static readonly string[] ApiKeys = { "Route", "Runner", "Method", "Input", "Output", "MaxBatchSize", "MaxLatencyMs" };

    /// <summary>The bounds of an API's MaxBatchSize (1 turns batching off for the API), as [RunnerMethod]'s.</summary>
    public const int MaxBatchSizeLimit = 4096;

    /// <summary>The bound of an API's MaxLatencyMs, as [RunnerMethod]'s.</summary>
    public const int MaxLatencyMsLimit = 60_000;
    private static readonly Regex NamePattern = new("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant);
    private static readonly Regex RoutePattern = new("^/[A-Za-z0-9_./-]*$", RegexOptions.CultureInvariant);
    private static readonly Regex MethodPattern = new("^[A-Za-z_][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant);
    // Routes the API worker answers itself.
    private static readonly string[] ReservedRoutes = { "/livez", "/readyz", "/healthz", "/metrics" };

    /// <summary>Validates manifest data. Does not look at assemblies; see <see cref="ServiceAssemblyInspector"/>.</summary>
    public static ServiceDefinition Parse(IDictionary data, string manifestPath)
    {
        ArgumentNullException.ThrowIfNull(data);
        var full = Path.GetFullPath(manifestPath);
        var dir = Path.GetDirectoryName(full) ?? ".";
        CheckKeys(data, TopKeys, full, "the manifest");

        var name = RequiredString(data, "Name", full, "the manifest");
        if (!NamePattern.IsMatch(name))
            throw Bad(full, $"Name '{name}' is not valid: use lower-case letters, digits, '-' and '_' (at most 63).");

        var project = Project(data, dir, full);
        var assemblies = new List<string>();
        // Not needed with a Project (its build adds the assembly), nor for ONNX runners only: checked below, once the runners are known.
        foreach (var item in List(data, "Assemblies", full, "the manifest", required: false))
        {
            var rel = item?.ToString() ?? "";
            if (rel.Length == 0) throw Bad(full, "Assemblies has an empty entry.");
            assemblies.Add(Path.GetFullPath(Path.Combine(dir, rel)));
        }

        var runners = new List<RunnerDefinition>();
        var runnerNames = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in List(data, "Runners", full, "the manifest", required: true))
        {
            index++;
            var where = $"Runners[{index - 1}]";
            if (item is not IDictionary r) throw Bad(full, $"{where} must be a hashtable.");
            CheckKeys(r, RunnerKeys, full, where);
            var rname = RequiredString(r, "Name", full, where);
            where = $"runner '{rname}'";
            if (!NamePattern.IsMatch(rname))
                throw Bad(full, $"{where}: the name is not valid: use lower-case letters, digits, '-' and '_' (at most 63).");
            if (!runnerNames.Add(rname)) throw Bad(full, $"{where} is declared twice.");
            var (type, onnx) = TypeOrOnnx(r, dir, full, where);
            int? intraOpThreads = null;
            if (Get(r, "IntraOpThreads") is not null)
            {
                if (onnx.Length == 0)
                    throw Bad(full, $"{where}: IntraOpThreads applies to ONNX runners only (Onnx = '...'); remove it.");
                intraOpThreads = OptionalInt(r, "IntraOpThreads", 1, OnnxRunnerContract.MaxIntraOpThreads, full, where, "OnnxRuntime's threads per operator, per worker");
            }
            var workers = r.Contains("Workers") ? Int(r["Workers"], full, where + " Workers") : 1;
            if (workers < 1 || workers > 256) throw Bad(full, $"{where}: Workers must be between 1 and 256; got {workers}.");
            var env = Map(r, "Environment", full, where);
            var perWorker = new List<IReadOnlyDictionary<string, string>>();
            if (r.Contains("WorkerEnvironment"))
            {
                var i = 0;
                foreach (var w in AsList(r["WorkerEnvironment"], full, where + " WorkerEnvironment"))
                {
                    i++;
                    if (w is not IDictionary wd) throw Bad(full, $"{where}: WorkerEnvironment[{i - 1}] must be a hashtable.");
                    perWorker.Add(ToMap(wd));
                }
                if (perWorker.Count > workers)
                    throw Bad(full, $"{where}: WorkerEnvironment has {perWorker.Count} entries but the runner has {workers} workers.");
            }
            runners.Add(new RunnerDefinition { Name = rname, Type = type, Onnx = onnx, IntraOpThreads = intraOpThreads, Workers = workers, Environment = env, WorkerEnvironment = perWorker });
        }
        if (runners.Count == 0) throw Bad(full, "Runners is empty: a service needs at least one runner.");
        if (assemblies.Count == 0 && project is null && runners.Exists(r => !r.IsOnnx))
            throw Bad(full, Get(data, "Assemblies") is null
                ? "the manifest needs Assemblies: name the .dll files that hold the runner types, or the runner project (Project = 'src/MyRunners.csproj')."
                : "Assemblies is empty: name the .dll files that hold the runner types, or the runner project (Project = 'src/MyRunners.csproj').");

        var apis = new List<ApiDefinition>();
        var routes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        index = 0;
        foreach (var item in List(data, "Apis", full, "the manifest", required: true))
        {
            index++;
            var where = $"Apis[{index - 1}]";
            if (item is not IDictionary a) throw Bad(full, $"{where} must be a hashtable.");
            CheckKeys(a, ApiKeys, full, where);
            var route = RequiredString(a, "Route", full, where);
            where = $"API '{route}'";
            if (!RoutePattern.IsMatch(route) || route == "/")
                throw Bad(full, $"{where}: the route must start with '/' and use letters, digits, '_', '-', '.' and '/'.");
            foreach (var reserved in ReservedRoutes)
                if (string.Equals(reserved, route, StringComparison.OrdinalIgnoreCase))
                    throw Bad(full, $"{where}: the route is reserved for health and metrics.");
            if (routes.TryGetValue(route, out var first))
                throw new ServingException(ErrorIds.DuplicateRoute, ServingErrorKind.InvalidData,
                    $"{full}: Apis[{first}] and Apis[{index - 1}] both claim the route '{route}'. Give each API its own route.",
                    route);
            routes[route] = index - 1;
            var runner = RequiredString(a, "Runner", full, where);
            if (!runnerNames.Contains(runner))
                throw Bad(full, $"{where} names the runner '{runner}', which the manifest does not declare. Declared runners: {string.Join(", ", runnerNames)}.");
            var method = RequiredString(a, "Method", full, where);
            if (!MethodPattern.IsMatch(method)) throw Bad(full, $"{where}: Method '{method}' is not a valid method name.");
            apis.Add(new ApiDefinition
            {
                Route = route,
                Runner = runner,
                Method = method,
                Input = Kind(a, "Input", full, where),
                Output = Kind(a, "Output", full, where),
                MaxBatchSize = OptionalInt(a, "MaxBatchSize", 1, MaxBatchSizeLimit, full, where, "1 turns batching off for this API"),
                MaxLatencyMs = OptionalInt(a, "MaxLatencyMs", 0, MaxLatencyMsLimit, full, where, "milliseconds"),
            });
        }
        if (apis.Count == 0) throw Bad(full, "Apis is empty: a service needs at least one API.");

        return new ServiceDefinition
        {
            Name = name,
            ManifestPath = full,
            Directory = dir,
            Project = project,
            Assemblies = assemblies.ToArray(),
            Runners = runners.ToArray(),
            Apis = apis.ToArray(),
        };
    }

    /// <summary>The optional <c>Project</c>: a .csproj (or .fsproj, .vbproj) next to the manifest or below it, that exists.</summary>
    private static string? Project(IDictionary data, string dir, string file)
    {
        if (!data.Contains("Project")) return null;
        if (data["Project"] is not string rel || rel.Trim().Length == 0)
            throw Bad(file, "Project must be the path of a project file, e.g. Project = 'src/MyRunners.csproj'.");
        var path = Path.GetFullPath(Path.Combine(dir, rel.Trim()));
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".csproj" or ".fsproj" or ".vbproj"))
            throw Bad(file, $"Project '{rel}' is not a project file (.csproj, .fsproj or .vbproj).");
        if (!File.Exists(path))
            throw Bad(file, $"Project '{rel}' does not exist (looked for '{path}').");
        return path;
    }

    /// <summary>A runner's Type, or its Onnx model's absolute path: exactly one of the two.</summary>
    private static (string Type, string Onnx) TypeOrOnnx(IDictionary r, string dir, string file, string where)
    {
        var hasType = Get(r, "Type") is not null;
        var hasOnnx = Get(r, "Onnx") is not null;
        if (hasType && hasOnnx)
            throw Bad(file, $"{where} sets both Type and Onnx: a runner is either a class (Type = 'Namespace.Class') or an ONNX model (Onnx = 'models/model.onnx'), not both.");
        if (!hasType && !hasOnnx)
            throw Bad(file, $"{where} needs Type (a runner class, e.g. Type = 'MyService.MyRunner') or Onnx (a model file relative to the manifest, e.g. Onnx = 'models/model.onnx').");
        if (hasType)
            return (RequiredString(r, "Type", file, where), "");
        var rel = RequiredString(r, "Onnx", file, where);
        return ("", Path.GetFullPath(Path.Combine(dir, rel)));
    }

    private static ServingException Bad(string file, string message) =>
        new(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData, $"{file}: {message}", file);

    private static void CheckKeys(IDictionary d, string[] valid, string file, string where)
    {
        foreach (var key in d.Keys)
        {
            var k = key?.ToString() ?? "";
            var known = false;
            foreach (var v in valid)
                if (string.Equals(v, k, StringComparison.OrdinalIgnoreCase)) { known = true; break; }
            if (!known) throw Bad(file, $"{where} has an unknown key '{k}'. Valid keys: {string.Join(", ", valid)}.");
        }
    }

    private static object? Get(IDictionary d, string key)
    {
        foreach (DictionaryEntry e in d)
            if (string.Equals(e.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase)) return e.Value;
        return null;
    }

    private static string RequiredString(IDictionary d, string key, string file, string where)
    {
        var v = Get(d, key);
        if (v is null || v is IDictionary || (v is IEnumerable && v is not string))
            throw Bad(file, $"{where} needs {key} (a string).");
        var s = Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
        if (s.Trim().Length == 0) throw Bad(file, $"{where} needs a non-empty {key}.");
        return s.Trim();
    }

    private static IEnumerable List(IDictionary d, string key, string file, string where, bool required)
    {
        var v = Get(d, key);
        if (v is null)
            return required ? throw Bad(file, $"{where} needs {key}.") : Array.Empty<object>();
        return AsList(v, file, $"{key}");
    }

    private static IEnumerable AsList(object? v, string file, string where) => v switch
    {
        null => Array.Empty<object>(),
        string s => new object[] { s },
        IDictionary d => new object[] { d },
        IEnumerable e => e,
        _ => new[] { v },
    };

    private static int Int(object? v, string file, string where)
    {
        try { return Convert.ToInt32(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                $"{file}: {where} must be an integer; got '{v}'.", file, e);
        }
    }

    /// <summary>An optional integer key within [min, max]; null when absent.</summary>
    private static int? OptionalInt(IDictionary d, string key, int min, int max, string file, string where, string note)
    {
        var v = Get(d, key);
        if (v is null) return null;
        if (v is bool || v is string || v is IDictionary || v is IEnumerable || !IsInteger(v))
            throw Bad(file, $"{where}: {key} must be an integer from {min} to {max} ({note}); got '{v}'.");
        var value = Convert.ToDouble(v, CultureInfo.InvariantCulture);
        if (value < min || value > max)
            throw Bad(file, $"{where}: {key} must be an integer from {min} to {max} ({note}); got {v}.");
        return (int)value;
    }

    private static bool IsInteger(object v) => v switch
    {
        byte or sbyte or short or ushort or int or uint or long or ulong => true,
        double d => Math.Floor(d) == d && !double.IsInfinity(d),
        float f => MathF.Floor(f) == f && !float.IsInfinity(f),
        decimal m => decimal.Floor(m) == m,
        _ => false,
    };

    private static IReadOnlyDictionary<string, string> Map(IDictionary d, string key, string file, string where)
    {
        var v = Get(d, key);
        if (v is null) return new Dictionary<string, string>();
        if (v is not IDictionary m) throw Bad(file, $"{where}: {key} must be a hashtable.");
        return ToMap(m);
    }

    private static IReadOnlyDictionary<string, string> ToMap(IDictionary m)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in m)
            map[e.Key?.ToString() ?? ""] = Convert.ToString(e.Value, CultureInfo.InvariantCulture) ?? "";
        return map;
    }

    private static PayloadKind Kind(IDictionary d, string key, string file, string where)
    {
        var v = Get(d, key);
        if (v is null) return PayloadKind.Json;
        if (Enum.TryParse<PayloadKind>(v.ToString(), ignoreCase: true, out var kind) && Enum.IsDefined(kind)) return kind;
        throw Bad(file, $"{where}: {key} '{v}' is not one of Json, Text, Bytes.");
    }
}
