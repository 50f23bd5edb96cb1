using System.Text.Json;

namespace Serving.Runtime.Supervision;

/// <summary>Writes host.json, the worker's configuration (docs/worker-protocol.md), mode 0600.</summary>
internal static class HostConfigWriter
{
    // The worker reads host.json with camelCase names (its HostConfigJsonContext): the same names, from the same type.
    private static readonly JsonSerializerOptions TuningJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <param name="runnerWorkers">How many workers each runner has now (scaling changes it); a runner not in it: its manifest's count.</param>
    public static void Write(string path, HostPlan plan, string hostName, IReadOnlyDictionary<string, (RunnerTransport Transport, string Address)> endpoints,
        IReadOnlyDictionary<string, int> runnerWorkers, string secret, HostOptions options, int generation)
    {
        var service = plan.Definition;
        // Written aside and moved into place: a worker starting meanwhile reads the old file or the new, never half of one.
        var temporary = path + ".new";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("hostId", plan.HostId);
            w.WriteString("hostName", hostName);
            w.WriteString("protocol", plan.Protocol.ToString());
            w.WriteNumber("generation", generation);
            w.WriteString("serviceDirectory", service.Directory);
            w.WriteStartObject("service");
            w.WriteString("name", service.Name);
            w.WriteStartArray("assemblies");
            foreach (var a in service.Assemblies) w.WriteStringValue(a);
            w.WriteEndArray();
            w.WriteStartArray("runners");
            foreach (var r in service.Runners)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                // Exactly one of the two: a runner class, or the model a no-code ONNX runner serves.
                if (r.IsOnnx)
                {
                    w.WriteString("onnx", r.Onnx);
                    if (r.IntraOpThreads is { } intraOpThreads) w.WriteNumber("intraOpThreads", intraOpThreads);
                }
                else
                {
                    w.WriteString("type", r.Type);
                }
                w.WriteNumber("workers", runnerWorkers.TryGetValue(r.Name, out var workers) ? workers : r.Workers);
                w.WriteStartObject("environment");
                foreach (var (k, v) in r.Environment) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteStartArray("workerEnvironment");
                foreach (var env in r.WorkerEnvironment)
                {
                    w.WriteStartObject();
                    foreach (var (k, v) in env) w.WriteString(k, v);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("apis");
            foreach (var api in service.Apis)
            {
                w.WriteStartObject();
                w.WriteString("route", api.Route);
                w.WriteString("runner", api.Runner);
                w.WriteString("method", api.Method);
                w.WriteString("input", api.Input.ToString());
                w.WriteString("output", api.Output.ToString());
                if (api.MaxBatchSize is { } maxBatchSize) w.WriteNumber("maxBatchSize", maxBatchSize);
                if (api.MaxLatencyMs is { } maxLatencyMs) w.WriteNumber("maxLatencyMs", maxLatencyMs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("runnerEndpoints");
            foreach (var (name, (transport, address)) in endpoints)
            {
                w.WriteStartObject(name);
                w.WriteString("transport", transport.ToString());
                w.WriteString("address", address);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (secret.Length > 0) w.WriteString("runnerSecret", secret);
            w.WriteNumber("requestTimeoutSeconds", options.RequestTimeout.TotalSeconds);
            w.WriteNumber("maxRequestBodyBytes", options.MaxRequestBodyBytes);
            if (options.MaxMessageBytes is { } maxMessageBytes)
                w.WriteNumber("maxMessageBytes", maxMessageBytes);
            w.WriteNumber("maxConcurrentStreams", options.MaxConcurrentStreams);
            w.WriteString("logFormat", options.LogFormat.ToString());
            w.WriteString("logLevel", LogLineContract.LevelName((int)options.LogLevel));
            w.WriteBoolean("accessLog", options.AccessLog);
            // Every tunable, default or not: the worker runs with exactly what the supervisor holds.
            w.WritePropertyName("tuning");
            JsonSerializer.Serialize(w, options.Tuning, TuningJson);
            w.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }
}
