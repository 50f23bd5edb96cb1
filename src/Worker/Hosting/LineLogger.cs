using Microsoft.Extensions.Logging;

namespace Serving.Worker.Hosting;

/// <summary>
/// The worker's log: one plain line per event, no colours, no timestamps (the supervisor stamps
/// and tags every line). Information and below go to stdout, warnings and errors to stderr;
/// exceptions are flattened onto the same line.
/// </summary>
internal sealed class LineLoggerProvider : ILoggerProvider
{
    private static readonly object WriteLock = new();

    public ILogger CreateLogger(string categoryName) => new LineLogger(ShortCategory(categoryName));

    public void Dispose() { }

    /// <summary>Writes one control or log line to stdout and flushes it.</summary>
    public static void WriteStdout(string line)
    {
        lock (WriteLock)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    /// <summary>Writes one line to stderr.</summary>
    public static void WriteStderr(string line)
    {
        lock (WriteLock)
        {
            Console.Error.WriteLine(line);
            Console.Error.Flush();
        }
    }

    private static string? ShortCategory(string category) =>
        category.StartsWith("Serving.", StringComparison.Ordinal) ? null : category;

    private sealed class LineLogger(string? category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || IsClientGone(category, exception))
                return;
            var message = formatter(state, exception);
            var level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var line = category is null ? $"{level}: {message}" : $"{level}: {category}: {message}";
            if (exception is not null)
                line = $"{line} | {exception}";
            line = OneLine(line);
            if (logLevel >= LogLevel.Warning)
                WriteStderr(line);
            else
                WriteStdout(line);
        }
    }

    /// <summary>
    /// Grpc.AspNetCore reports a call whose client closed the connection before the request message
    /// arrived as a failure ("Error when executing service method", IOException from a
    /// ConnectionAbortedException). That is the client's doing, not the worker's: not logged, so a
    /// load generator stopping mid-call does not fill the log with errors.
    /// </summary>
    private static bool IsClientGone(string? category, Exception? exception)
    {
        if (exception is null || category is null || !category.StartsWith("Grpc.AspNetCore.Server", StringComparison.Ordinal))
            return false;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Microsoft.AspNetCore.Connections.ConnectionAbortedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
                return true;
        }
        return false;
    }

    /// <summary>Collapses line breaks so an event (with its exception) stays on one line.</summary>
    public static string OneLine(string text) =>
        text.Contains('\n') || text.Contains('\r') ? text.ReplaceLineEndings(" | ") : text;
}
