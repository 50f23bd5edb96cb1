namespace Serving.Runtime.Supervision;

/// <summary>
/// How much a log line matters, lowest first: the names and numbers of Microsoft.Extensions.Logging's levels,
/// which the workers log with (host.json <c>logLevel</c>, a JSON line's <c>level</c>; <see cref="LogLineContract"/>).
/// </summary>
public enum LogLevel
{
    Trace = 0,
    Debug = 1,
    Information = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}
