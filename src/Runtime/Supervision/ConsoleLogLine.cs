using System.Globalization;
using System.Text;

namespace Serving.Runtime.Supervision;

/// <summary>
/// A log entry as the console shows it under <c>Start-ServingHost -Wait</c> (pure): one line, never wrapped
/// whatever the console's width. Text: <c>14:03:07.512 info [api-1] message</c>, an exception carried in the
/// entry on indented lines below it. Json: the workers' JSON line shape (<see cref="LogLineContract.Json"/>),
/// so the supervisor's own lines (start, stop, respawn, reload) parse as the workers' do.
/// </summary>
public static class ConsoleLogLine
{
    public static string Format(WorkerLogEntry entry, LogFormat format)
    {
        if (format == LogFormat.Json)
        {
            return LogLineContract.Json(entry.Time, (int)entry.Level, entry.Worker, entry.Event, entry.Message, entry.Exception,
                entry.FieldsJson is { } fields ? w => { foreach (var field in fields.EnumerateObject()) field.WriteTo(w); } : null);
        }
        var text = new StringBuilder();
        text.Append(entry.Time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append(' ')
            .Append(LogLineContract.LevelPrefixes[(int)entry.Level]).Append(" [").Append(entry.Worker).Append("] ");
        // A message's further lines and an exception's lines continue the entry: indented, so a reader (or a log
        // shipper's multiline rule) sees that they belong to the line above.
        var first = true;
        foreach (var line in Lines(entry.Message).Concat(entry.Exception is null ? [] : Lines(entry.Exception)))
        {
            if (!first) text.Append('\n').Append(LogLineContract.Continuation);
            text.Append(line);
            first = false;
        }
        return text.ToString();
    }

    private static IEnumerable<string> Lines(string text) => text.ReplaceLineEndings("\n").Split('\n');
}
