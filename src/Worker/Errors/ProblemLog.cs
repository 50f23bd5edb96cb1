namespace Serving.Worker.Errors;

/// <summary>
/// The operator's side of a problem: one log line per server-side failure (5xx, and the gRPC codes
/// standing for them), carrying the error id and the request id the client also got, so that a
/// client's report leads to the line. Client errors (4xx) are not logged: a client could flood the
/// log with them.
/// </summary>
internal static class ProblemLog
{
    /// <summary>The category of these lines (the worker's line logger shows no category for Serving.*).</summary>
    public const string Category = "Serving.Worker.HttpFrontDoor";

    /// <summary>
    /// Writes <c>fail: &lt;ErrorId&gt; request &lt;RequestId&gt;: &lt;message&gt;</c> (<c>warn:</c> for 503/504),
    /// with <paramref name="exception"/> flattened onto the line, when <paramref name="problem"/> is a
    /// server error; nothing otherwise. The logger comes from the request's services.
    /// </summary>
    public static void Write(HttpContext context, Problem problem, string requestId, string message, Exception? exception)
    {
        if (!problem.IsServerError)
            return;
        var factory = context.RequestServices?.GetService<ILoggerFactory>();
        if (factory is not null)
            Write(factory.CreateLogger(Category), problem, requestId, message, exception);
    }

    /// <summary>As <see cref="Write(HttpContext, Problem, string, string, Exception?)"/>, with a given logger.</summary>
    public static void Write(ILogger log, Problem problem, string requestId, string message, Exception? exception)
    {
        if (!problem.IsServerError)
            return;
        var level = problem.Status == StatusCodes.Status500InternalServerError ? LogLevel.Error : LogLevel.Warning;
        log.Log(level, exception, "{ErrorId} request {RequestId}: {Message}", problem.Id, requestId, message);
    }

    /// <summary>What a 500's detail ends with: where the operator finds the details.</summary>
    public static string SeeLog(string requestId) => $"; details are in the serving host's log under request id {requestId}";
}
