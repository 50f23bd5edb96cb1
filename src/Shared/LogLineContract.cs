using System.Text.Encodings.Web;
using System.Text.Json;

namespace Serving.Shared;

/// <summary>
/// A worker's log line, as the worker writes it and the supervisor reads it (docs/worker-protocol.md, "Log
/// lines"): the level names and text prefixes, and the JSON line's shape. Defined once: the worker writes with
/// it, the supervisor parses with it and writes its own lines (-Wait -LogFormat Json) with it. Levels are
/// named as Microsoft.Extensions.Logging names them, in its order (Trace = 0 … Critical = 5), so each side
/// maps its own level type by number. One file, linked into the supervisor and the worker.
/// </summary>
internal static class LogLineContract
{
    /// <summary>The level names, by level number (what JSON lines, host.json <c>logLevel</c> and -LogLevel say).</summary>
    public static readonly string[] LevelNames = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"];

    /// <summary>The text lines' prefixes (<c>info: …</c>), by level number: Microsoft's console logger's.</summary>
    public static readonly string[] LevelPrefixes = ["trce", "dbug", "info", "warn", "fail", "crit"];

    /// <summary>What starts each further line of a text event (its message's next lines, its exception): whitespace, so a reader knows it continues the line above.</summary>
    public const string Continuation = "    ";

    public const string TimestampKey = "timestamp";
    public const string LevelKey = "level";
    public const string WorkerKey = "worker";
    public const string EventKey = "event";
    public const string MessageKey = "message";
    public const string ExceptionKey = "exception";
    public const string FieldsKey = "fields";

    // Relaxed: non-ASCII text stays readable in `docker logs`; quotes, control characters and line breaks are still escaped, so a line stays one line.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// One JSON object, on one line: <c>{"timestamp":…,"level":…,"worker":…,"event":…,"message":…}</c>, then
    /// <c>"exception"</c> (its full text) when there is one and <c>"fields"</c> (an object) when
    /// <paramref name="writeFields"/> writes any.
    /// </summary>
    public static string Json(DateTimeOffset timestamp, int level, string worker, string @event, string message, string? exception,
        Action<Utf8JsonWriter>? writeFields = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString(TimestampKey, timestamp);
            w.WriteString(LevelKey, LevelName(level));
            w.WriteString(WorkerKey, worker);
            w.WriteString(EventKey, @event);
            w.WriteString(MessageKey, message);
            if (exception is not null)
                w.WriteString(ExceptionKey, exception);
            if (writeFields is not null)
            {
                w.WritePropertyName(FieldsKey);
                w.WriteStartObject();
                writeFields(w);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The name of a level number; out of range reads as the nearest level.</summary>
    public static string LevelName(int level) => LevelNames[Math.Clamp(level, 0, LevelNames.Length - 1)];

    /// <summary>The level number of a name (case-insensitive), or -1.</summary>
    public static int LevelOf(string? name)
    {
        for (var i = 0; i < LevelNames.Length; i++)
            if (string.Equals(LevelNames[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>The level number of a text line's prefix (<c>info</c>), or -1.</summary>
    public static int LevelOfPrefix(ReadOnlySpan<char> prefix)
    {
        for (var i = 0; i < LevelPrefixes.Length; i++)
            if (prefix.SequenceEqual(LevelPrefixes[i])) return i;
        return -1;
    }

    /// <summary>A JSON log line read back; <see cref="Fields"/> is a detached copy (or null).</summary>
    public readonly record struct JsonLine(DateTimeOffset? Timestamp, int Level, string? Worker, string? Event, string Message, string? Exception, JsonElement? Fields);

    /// <summary>
    /// Reads a JSON log line: an object with at least <c>level</c> (a known name) and <c>message</c> (a
    /// string). Anything else (not JSON, another shape) is not one: false, and the caller takes it as text.
    /// </summary>
    public static bool TryParseJson(string line, out JsonLine parsed)
    {
        parsed = default;
        if (line.Length < 2 || line[0] != '{') return false;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty(LevelKey, out var levelElement) || levelElement.ValueKind != JsonValueKind.String
                || !root.TryGetProperty(MessageKey, out var messageElement) || messageElement.ValueKind != JsonValueKind.String)
                return false;
            var level = LevelOf(levelElement.GetString());
            if (level < 0) return false;
            DateTimeOffset? timestamp = root.TryGetProperty(TimestampKey, out var t) && t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var time)
                ? time : null;
            parsed = new JsonLine(timestamp, level, StringOrNull(root, WorkerKey), StringOrNull(root, EventKey), messageElement.GetString()!,
                StringOrNull(root, ExceptionKey),
                root.TryGetProperty(FieldsKey, out var fields) && fields.ValueKind == JsonValueKind.Object ? fields.Clone() : null);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? StringOrNull(JsonElement root, string key) =>
        root.TryGetProperty(key, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
}
