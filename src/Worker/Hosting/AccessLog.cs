using System.Globalization;

namespace Serving.Worker.Hosting;

/// <summary>
/// -AccessLog: one line per API request, written as every other log line (text, or JSON with these as
/// <c>fields</c>): method, route, status, duration, bytes in and out, the generation, the request id (the one in
/// the response's <c>X-Request-Id</c> and in error bodies). Probes and scrapes are not logged: an orchestrator
/// probing every second would bury the requests.
/// </summary>
internal sealed class AccessLog(ILogger logger, int generation)
{
    private static readonly EventId Access = new(1, "access");

    /// <summary>
    /// One line: <c>POST /classify 200 0.412 ms 38 B in 52 B out gen 1 id 0HN…</c>. For gRPC the method is the gRPC
    /// method (Call, CallStream) and the status its name (OK, INVALID_ARGUMENT).
    /// </summary>
    public void Write(string method, string route, string status, string protocol, long startTimestamp, long bytesIn, long bytesOut, string requestId)
    {
        var milliseconds = Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, 3);
        KeyValuePair<string, object?>[] fields =
        [
            new("Method", method), new("Route", route), new("Status", status), new("Protocol", protocol),
            new("DurationMs", milliseconds), new("BytesIn", bytesIn), new("BytesOut", bytesOut),
            new("Generation", generation), new("RequestId", requestId),
        ];
        logger.Log(LogLevel.Information, Access, fields, null, static (f, _) => string.Create(CultureInfo.InvariantCulture,
            $"{f[0].Value} {f[1].Value} {f[2].Value} {f[4].Value:0.###} ms {f[5].Value} B in {f[6].Value} B out gen {f[7].Value} id {f[8].Value}"));
    }
}
