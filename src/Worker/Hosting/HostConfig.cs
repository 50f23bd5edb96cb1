using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serving.Worker.Hosting;

/// <summary>host.json as written by the supervisor (docs/worker-protocol.md).</summary>
internal sealed class HostConfig
{
    public string? HostId { get; set; }
    public string? HostName { get; set; }
    public string? Protocol { get; set; }

    /// <summary>The generation these workers belong to: 1, then one more per reload (access log lines carry it).</summary>
    public int Generation { get; set; } = 1;

    /// <summary>Optional: one log line per API request (-AccessLog). Default false.</summary>
    public bool AccessLog { get; set; }

    /// <summary>The API workers' protocol: <c>Http</c> (default) or <c>Grpc</c> (the gRPC front door).</summary>
    [JsonIgnore] public ServingProtocol ProtocolKind { get; private set; }
    public string? ServiceDirectory { get; set; }
    public ServiceConfig? Service { get; set; }
    public Dictionary<string, RunnerEndpointConfig>? RunnerEndpoints { get; set; }
    public string? RunnerSecret { get; set; }
    public double RequestTimeoutSeconds { get; set; } = ServingDefaults.RequestTimeoutSeconds;
    public long MaxRequestBodyBytes { get; set; } = ServingDefaults.MaxRequestBodyBytes;

    /// <summary>Optional: the largest gRPC message between API and runner workers (null: no limit beyond the body limit).</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>Optional: concurrent HTTP/2 streams per connection a runner accepts (null: Kestrel's 100).</summary>
    public int? MaxConcurrentStreams { get; set; }

    /// <summary>Optional: how log lines are written, <c>Text</c> (default) or <c>Json</c> (-LogFormat).</summary>
    public string? LogFormat { get; set; }

    /// <summary>Optional: the lowest level written, <c>Trace</c> … <c>Critical</c> (default <c>Information</c>; -LogLevel).</summary>
    public string? LogLevel { get; set; }

    [JsonIgnore] public LogFormat LogFormatKind { get; private set; }
    [JsonIgnore] public Microsoft.Extensions.Logging.LogLevel MinimumLevel { get; private set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>The workers' tunables (host.json <c>tuning</c>); absent keys keep <see cref="WorkerTuning"/>'s defaults.</summary>
    public WorkerTuning Tuning { get; set; } = new();

    /// <summary>Reads and validates host.json; throws <see cref="ConfigException"/> with a one-line message.</summary>
    public static HostConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException($"cannot read host.json '{path}': {ex.Message}");
        }

        HostConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(text, HostConfigJsonContext.Default.HostConfig);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"host.json '{path}' is not valid: {ex.Message}");
        }

        if (config is null)
            throw new ConfigException($"host.json '{path}' is empty");
        config.Validate();
        return config;
    }

    private void Validate()
    {
        if (Service is null)
            throw new ConfigException("host.json: 'service' is missing");
        Service.Runners ??= [];
        Service.Apis ??= [];
        Service.Assemblies ??= [];
        RunnerEndpoints ??= new Dictionary<string, RunnerEndpointConfig>(StringComparer.Ordinal);
        if (RequestTimeoutSeconds <= 0)
            throw new ConfigException("host.json: 'requestTimeoutSeconds' must be positive");
        if (MaxRequestBodyBytes <= 0)
            throw new ConfigException("host.json: 'maxRequestBodyBytes' must be positive");
        if (MaxMessageBytes is < 1024)
            throw new ConfigException("host.json: 'maxMessageBytes' must be at least 1024");
        if (MaxConcurrentStreams is < 1)
            throw new ConfigException("host.json: 'maxConcurrentStreams' must be positive");
        // "tuning": null reads as null: the defaults then, as for an absent key.
        Tuning ??= new WorkerTuning();
        if (Tuning.Problem() is { } tuning)
            throw new ConfigException("host.json: " + tuning);
        ProtocolKind = Protocol?.ToUpperInvariant() switch
        {
            null or "" or "HTTP" => ServingProtocol.Http,
            "GRPC" => ServingProtocol.Grpc,
            _ => throw new ConfigException($"host.json: unknown protocol '{Protocol}' (Http or Grpc)"),
        };

        LogFormatKind = LogFormat?.ToUpperInvariant() switch
        {
            null or "" or "TEXT" => Shared.LogFormat.Text,
            "JSON" => Shared.LogFormat.Json,
            _ => throw new ConfigException($"host.json: unknown logFormat '{LogFormat}' (Text or Json)"),
        };
        if (!string.IsNullOrEmpty(LogLevel))
        {
            var level = LogLineContract.LevelOf(LogLevel);
            if (level < 0)
                throw new ConfigException($"host.json: unknown logLevel '{LogLevel}' ({string.Join(", ", LogLineContract.LevelNames)})");
            MinimumLevel = (Microsoft.Extensions.Logging.LogLevel)level;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var runner in Service.Runners)
        {
            if (string.IsNullOrWhiteSpace(runner.Name))
                throw new ConfigException("host.json: a runner has no 'name'");
            if (!names.Add(runner.Name))
                throw new ConfigException($"host.json: runner '{runner.Name}' is listed twice");
            if (runner.Workers < 1)
                runner.Workers = 1;
            if (runner.IsOnnx && !string.IsNullOrEmpty(runner.Type))
                throw new ConfigException($"host.json: runner '{runner.Name}' has both 'type' and 'onnx'");
            if (runner.IntraOpThreads is < 1 or > OnnxRunnerContract.MaxIntraOpThreads)
                throw new ConfigException($"host.json: runner '{runner.Name}': 'intraOpThreads' must be between 1 and {OnnxRunnerContract.MaxIntraOpThreads}");
        }

        var routes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (Service.Apis.Count > short.MaxValue)
            throw new ConfigException($"host.json: at most {short.MaxValue} APIs");
        var index = 0;
        foreach (var api in Service.Apis)
        {
            api.Index = index++;
            if (string.IsNullOrWhiteSpace(api.Route) || api.Route[0] != '/')
                throw new ConfigException($"host.json: API route '{api.Route}' must start with '/'");
            if (!routes.Add(api.Route))
                throw new ConfigException($"host.json: API route '{api.Route}' is listed twice");
            if (string.IsNullOrWhiteSpace(api.Runner) || !names.Contains(api.Runner))
                throw new ConfigException($"host.json: API '{api.Route}' names unknown runner '{api.Runner}'");
            if (string.IsNullOrWhiteSpace(api.Method))
                throw new ConfigException($"host.json: API '{api.Route}' has no 'method'");
            if (api.MaxBatchSize is < 1 or > Runners.MethodBinder.MaxBatchSizeLimit)
                throw new ConfigException($"host.json: API '{api.Route}': 'maxBatchSize' must be between 1 and {Runners.MethodBinder.MaxBatchSizeLimit}");
            if (api.MaxLatencyMs is < 0 or > Runners.MethodBinder.MaxLatencyMsLimit)
                throw new ConfigException($"host.json: API '{api.Route}': 'maxLatencyMs' must be between 0 and {Runners.MethodBinder.MaxLatencyMsLimit}");
            api.InputKind = ParseKind(api.Input, api.Route, "input");
            api.OutputKind = ParseKind(api.Output, api.Route, "output");
        }

        foreach (var (name, endpoint) in RunnerEndpoints)
        {
            endpoint.TransportKind = endpoint.Transport?.ToUpperInvariant() switch
            {
                "UDS" or "UNIX" => RunnerTransport.Uds,
                "TCP" => RunnerTransport.Tcp,
                _ => throw new ConfigException($"host.json: runner endpoint '{name}' has unknown transport '{endpoint.Transport}' (Uds or Tcp)"),
            };
            if (string.IsNullOrWhiteSpace(endpoint.Address))
                throw new ConfigException($"host.json: runner endpoint '{name}' has no 'address'");
        }
    }

    private static PayloadKind ParseKind(string? value, string route, string what) => value?.ToUpperInvariant() switch
    {
        null or "" or "BYTES" => PayloadKind.Bytes,
        "JSON" => PayloadKind.Json,
        "TEXT" => PayloadKind.Text,
        _ => throw new ConfigException($"host.json: API '{route}' has unknown {what} kind '{value}' (Json, Text or Bytes)"),
    };

    public RunnerConfig? FindRunner(string name)
    {
        foreach (var runner in Service!.Runners!)
        {
            if (string.Equals(runner.Name, name, StringComparison.Ordinal))
                return runner;
        }
        return null;
    }
}

internal sealed class ServiceConfig
{
    public string? Name { get; set; }
    public List<string>? Assemblies { get; set; }
    public List<RunnerConfig>? Runners { get; set; }
    public List<ApiConfig>? Apis { get; set; }
}

internal sealed class RunnerConfig
{
    public string Name { get; set; } = "";
    public string? Type { get; set; }

    /// <summary>The absolute path of the model a no-code ONNX runner serves (instead of <see cref="Type"/>).</summary>
    public string? Onnx { get; set; }

    /// <summary>Optional, ONNX runners: OnnxRuntime's intra-op threads per worker (null: OnnxRuntime's default).</summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>A no-code ONNX runner (<see cref="Onnx"/> set).</summary>
    [JsonIgnore] public bool IsOnnx => !string.IsNullOrEmpty(Onnx);
    public int Workers { get; set; } = 1;
    public Dictionary<string, string>? Environment { get; set; }
    public List<Dictionary<string, string>>? WorkerEnvironment { get; set; }

    /// <summary>The runner's environment merged with the given worker's entry of workerEnvironment.</summary>
    public Dictionary<string, string> EnvironmentFor(int workerIndex)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Environment is not null)
        {
            foreach (var (k, v) in Environment)
                env[k] = v;
        }
        if (WorkerEnvironment is not null && workerIndex >= 1 && workerIndex <= WorkerEnvironment.Count && WorkerEnvironment[workerIndex - 1] is { } perWorker)
        {
            foreach (var (k, v) in perWorker)
                env[k] = v;
        }
        return env;
    }
}

internal sealed class ApiConfig
{
    public string Route { get; set; } = "";
    public string Runner { get; set; } = "";
    public string Method { get; set; } = "";
    public string? Input { get; set; }
    public string? Output { get; set; }

    /// <summary>Optional: the manifest's override of the batchable method's MaxBatchSize (1 turns batching off for this API).</summary>
    public int? MaxBatchSize { get; set; }

    /// <summary>Optional: the manifest's override of the batchable method's MaxLatencyMs.</summary>
    public int? MaxLatencyMs { get; set; }

    [JsonIgnore] public PayloadKind InputKind { get; set; }
    [JsonIgnore] public PayloadKind OutputKind { get; set; }

    /// <summary>This API's position in <c>service.apis</c>: API and runner workers read the same host.json, so a call names its API by it.</summary>
    [JsonIgnore] public int Index { get; set; }
}

internal sealed class RunnerEndpointConfig
{
    public string? Transport { get; set; }
    public string? Address { get; set; }

    [JsonIgnore] public RunnerTransport TransportKind { get; set; }
}

internal sealed class ConfigException(string message) : Exception(message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(HostConfig))]
internal sealed partial class HostConfigJsonContext : JsonSerializerContext;
