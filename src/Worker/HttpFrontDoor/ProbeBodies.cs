using System.Buffers;
using System.Text.Json;
using Serving.Worker.Errors;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>The probe endpoints' JSON bodies.</summary>
internal static class ProbeBodies
{
    private static readonly JsonWriterOptions JsonWriterOptions = ApiResponses.JsonWriterOptions;

    public static ReadOnlyMemory<byte> Ready(string worker) => Write(w =>
    {
        w.WriteString("status", "ready");
        w.WriteString("worker", worker);
    });

    /// <summary>
    /// /readyz 503: a problem body (<c>NotReady</c>, or <c>Stopping</c> once a drain began) with
    /// <c>notReady</c>, the runners without a ready worker.
    /// </summary>
    public static ReadOnlyMemory<byte> NotReady(ReadinessReport report, bool stopping, string requestId, string worker)
    {
        var names = new List<string>();
        foreach (var r in report.Runners)
        {
            if (!r.Ready)
                names.Add(r.Name);
        }
        var problem = stopping ? Problems.Stopping : Problems.NotReady;
        var detail = stopping ? "the worker is stopping" : $"runners not ready: {string.Join(", ", names)}";
        return ApiResponses.ProblemBody(problem, detail, requestId, worker, w =>
        {
            w.WriteStartArray("notReady");
            foreach (var n in names)
                w.WriteStringValue(n);
            w.WriteEndArray();
        });
    }

    public static ReadOnlyMemory<byte> Health(string worker, ReadinessReport report, bool stopping) => Write(w =>
    {
        var ok = !stopping && report.AllReady;
        w.WriteString("status", ok ? "ok" : stopping ? "stopping" : "unavailable");
        w.WriteString("worker", worker);
        w.WriteStartObject("runners");
        foreach (var r in report.Runners)
        {
            w.WriteStartObject(r.Name);
            w.WriteBoolean("ready", r.Ready);
            w.WriteString("status", r.Status);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    private static ReadOnlyMemory<byte> Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
