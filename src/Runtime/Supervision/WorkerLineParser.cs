namespace Serving.Runtime.Supervision;

/// <summary>
/// Reads a worker's log line into an entry (pure): its level and message from a text line's prefix
/// (<c>info: …</c>) or from a JSON line (<see cref="LogLineContract.TryParseJson"/>), whatever format the host
/// runs with — a worker writes text until it has read host.json. docs/worker-protocol.md, "Log lines".
/// </summary>
internal static class WorkerLineParser
{
    // What a worker writes before it can log in host.json's format (a bad command line or host.json).
    private const string EarlyErrorPrefix = "error: ";

    /// <param name="previous">The level of the line before it on the same stream, which a continuation line (one starting with whitespace) has.</param>
    public static WorkerLogEntry Parse(string line, bool isError, LogLevel? previous, string host, string worker, int pid, DateTimeOffset now)
    {
        var stream = isError ? "stderr" : "stdout";
        if (LogLineContract.TryParseJson(line, out var json))
        {
            return new WorkerLogEntry
            {
                Time = json.Timestamp ?? now, Host = host, Worker = worker, Pid = pid, Stream = stream,
                Level = (LogLevel)json.Level, Event = json.Event ?? "worker", Message = json.Message, Exception = json.Exception,
                FieldsJson = json.Fields,
            };
        }
        var (level, message) = ReadText(line, isError, previous);
        return new WorkerLogEntry { Time = now, Host = host, Worker = worker, Pid = pid, Stream = stream, Level = level, Message = message };
    }

    private static (LogLevel Level, string Message) ReadText(string line, bool isError, LogLevel? previous)
    {
        if (line.Length > 0 && char.IsWhiteSpace(line[0]) && previous is { } continued)
            return (continued, line);
        if (line.Length >= 6 && line[4] == ':' && line[5] == ' ' && LogLineContract.LevelOfPrefix(line.AsSpan(0, 4)) is var level and >= 0)
            return ((LogLevel)level, line[6..]);
        if (line.StartsWith(EarlyErrorPrefix, StringComparison.Ordinal))
            return (LogLevel.Error, line[EarlyErrorPrefix.Length..]);
        // No prefix: whatever a runner or the runtime wrote to the console itself. On stderr, an error.
        return (isError ? LogLevel.Error : LogLevel.Information, line);
    }

    /// <summary>A line as the host's recent lines keep it for error messages: <c>info: message</c>, whatever the format.</summary>
    public static string AsText(WorkerLogEntry entry) => entry.Exception is { } exception
        ? $"{LogLineContract.LevelPrefixes[(int)entry.Level]}: {entry.Message} ({exception.ReplaceLineEndings("\n").Split('\n')[0]})"
        : $"{LogLineContract.LevelPrefixes[(int)entry.Level]}: {entry.Message}";
}
