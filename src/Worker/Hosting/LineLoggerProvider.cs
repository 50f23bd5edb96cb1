namespace Serving.Worker.Hosting;

/// <summary>
/// The worker's log, as docs/worker-protocol.md ("Log lines") says: in <see cref="LogFormat.Text"/> one plain
/// line per event (<c>info: …</c>, no colours, no timestamp: the supervisor stamps and tags every line), a
/// message's further lines and an exception's lines below it, each starting with whitespace; in
/// <see cref="LogFormat.Json"/> one JSON object per line (<see cref="LogLineContract.Json"/>). Events below
/// <see cref="MinimumLevel"/> are not written. Information and below go to stdout, warnings and errors to
/// stderr. Control lines (<c>@@serving …</c>) are written as they are by <see cref="WriteStdout"/>.
/// </summary>
internal sealed class LineLoggerProvider : ILoggerProvider
{
    private static readonly object WriteLock = new();

    // The process's settings: one worker per process, one log. Until host.json is read (a bad command line or
    // host.json), the defaults: text at Information.
    private static LogFormat _format = LogFormat.Text;
    private static LogLevel _minimum = LogLevel.Information;
    private static string _worker = "";

    /// <summary>The lowest level written (host.json <c>logLevel</c>; default Information).</summary>
    public static LogLevel MinimumLevel => _minimum;

    /// <summary>Sets the format, the minimum level and the worker's name (JSON lines carry it), once host.json is read.</summary>
    public static void Configure(LogFormat format, LogLevel minimum, string worker)
    {
        _format = format;
        _minimum = minimum;
        _worker = worker;
    }

    public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName);

    public void Dispose() { }

    /// <summary>Writes one line (a control line, or one already formatted) to stdout and flushes it.</summary>
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

    /// <summary>An event of the worker's own (its lifecycle, the lifeline), not through an ILogger: formatted and filtered as every other.</summary>
    public static void Write(LogLevel level, string message, Exception? exception = null, string @event = "Serving.Worker")
    {
        if (level < _minimum || level == LogLevel.None) return;
        Emit(level, LogLineFormatter.Format(_format, DateTimeOffset.Now, level, _worker, @event, category: null, message, exception, fields: null));
    }

    private static void Emit(LogLevel level, string text)
    {
        // A text event with continuation lines is written in one go, so no other line comes between them.
        if (level >= LogLevel.Warning)
            WriteStderr(text);
        else
            WriteStdout(text);
    }

    private sealed class LineLogger(string category) : ILogger
    {
        // Our own categories name nothing a reader needs on a text line; others (Kestrel, gRPC) say where a line comes from.
        private readonly bool _showCategory = !category.StartsWith("Serving.", StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || IsClientGone(category, exception))
                return;
            var message = formatter(state, exception);
            var fields = state as IReadOnlyList<KeyValuePair<string, object?>>;
            Emit(logLevel, LogLineFormatter.Format(_format, DateTimeOffset.Now, logLevel, _worker, eventId.Name ?? category, _showCategory ? category : null,
                message, exception, fields));
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
}
