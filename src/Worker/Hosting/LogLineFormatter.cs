using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Serving.Worker.Hosting;

/// <summary>
/// Turns one log event into what the worker writes (pure; <see cref="LineLoggerProvider"/> writes it).
/// Text: <c>info: message</c> (<c>info: category: message</c> for categories not our own); a message's further
/// lines and the exception's lines follow, each indented by <see cref="LogLineContract.Continuation"/>, never
/// joined onto the first line. Json: one object on one line (<see cref="LogLineContract.Json"/>), the exception
/// in full in its own field, the event's named values (structured logging's state) under <c>fields</c>.
/// </summary>
internal static class LogLineFormatter
{
    private const string OriginalFormat = "{OriginalFormat}";

    /// <param name="event">The JSON line's <c>event</c>: the event's name, else its logger's category.</param>
    /// <param name="category">The category a text line shows; null: none.</param>
    public static string Format(LogFormat format, DateTimeOffset time, LogLevel level, string worker, string @event, string? category,
        string message, Exception? exception, IReadOnlyList<KeyValuePair<string, object?>>? fields)
    {
        if (format == LogFormat.Json)
        {
            var named = fields?.Where(f => f.Key != OriginalFormat).ToArray();
            return LogLineContract.Json(time, (int)level, worker, @event, message, exception?.ToString(),
                named is { Length: > 0 } ? w => WriteFields(w, named) : null);
        }
        var text = new StringBuilder();
        text.Append(LogLineContract.LevelPrefixes[Math.Clamp((int)level, 0, 5)]).Append(": ");
        if (category is not null) text.Append(category).Append(": ");
        AppendLines(text, message, first: true);
        if (exception is not null) AppendLines(text, exception.ToString(), first: false);
        return text.ToString();
    }

    /// <summary>The lines of <paramref name="value"/>, each after the first (or all, when it continues an event) on its own indented line.</summary>
    private static void AppendLines(StringBuilder text, string value, bool first)
    {
        foreach (var line in value.ReplaceLineEndings("\n").Split('\n'))
        {
            if (!first) text.Append('\n').Append(LogLineContract.Continuation);
            text.Append(line);
            first = false;
        }
    }

    private static void WriteFields(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, object?>> fields)
    {
        foreach (var (key, value) in fields)
        {
            switch (value)
            {
                case null: w.WriteNull(key); break;
                case bool b: w.WriteBoolean(key, b); break;
                case int or long or short or byte or uint or ulong or ushort or sbyte:
                    w.WriteNumber(key, Convert.ToDecimal(value, CultureInfo.InvariantCulture)); break;
                case double d when double.IsFinite(d): w.WriteNumber(key, d); break;
                case float f when float.IsFinite(f): w.WriteNumber(key, f); break;
                case decimal m: w.WriteNumber(key, m); break;
                default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
