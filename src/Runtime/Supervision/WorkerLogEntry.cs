using System.Text.Json;

namespace Serving.Runtime.Supervision;

/// <summary>One line a worker (or the supervisor about a worker) wrote.</summary>
public sealed class WorkerLogEntry
{
    /// <summary>When it was written: a JSON line's own timestamp, else when the supervisor read it.</summary>
    public DateTimeOffset Time { get; init; }
    public string Host { get; init; } = "";
    public string Worker { get; init; } = "";
    public int Pid { get; init; }
    /// <summary>
    /// From the line's prefix (<c>info:</c>, <c>warn:</c>, <c>fail:</c> …) or a JSON line's <c>level</c>; a line of a
    /// worker's stderr without one is Error, of its stdout Information; a line starting with whitespace continues
    /// the line above (an exception's stack) and has its level. The supervisor's notes are Information, or Warning
    /// and Error when a worker failed.
    /// </summary>
    public LogLevel Level { get; init; } = LogLevel.Information;
    /// <summary>stdout, stderr, or supervisor (the supervisor's own note about the worker).</summary>
    public string Stream { get; init; } = "stdout";
    /// <summary>What happened: a JSON line's <c>event</c> (its logger's category or event name), else the stream's kind: <c>worker</c>, <c>supervisor</c>, <c>reloader</c>.</summary>
    public string Event { get; init; } = "worker";
    /// <summary>The line without its level prefix; a JSON line's <c>message</c>.</summary>
    public string Message { get; init; } = "";
    /// <summary>A JSON line's <c>exception</c>, in full (a text line's exception is on the lines that follow it).</summary>
    public string? Exception { get; init; }

    /// <summary>A JSON line's <c>fields</c> (the event's named values), as it carried them.</summary>
    internal JsonElement? FieldsJson { get; init; }

    /// <summary>A JSON line's <c>fields</c>: name → value as text; empty when it had none.</summary>
    public IReadOnlyDictionary<string, string> Fields =>
        FieldsJson is { } fields
            ? fields.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText(), StringComparer.Ordinal)
            : new Dictionary<string, string>();

    public override string ToString() => $"[{Worker}] {Message}";
}
