using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>Small helpers for API responses: content types, results, and RFC 9457 problem bodies.</summary>
internal static class ApiResponses
{
    /// <summary>Bodies are JSON documents, never embedded in HTML: no need to escape quotes and the like.</summary>
    public static readonly JsonWriterOptions JsonWriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string JsonContentType = "application/json";
    public const string ProblemContentType = "application/problem+json";
    public const string TextContentType = "text/plain; charset=utf-8";
    public const string BytesContentType = "application/octet-stream";

    public static string ContentTypeOf(PayloadKind kind) => kind switch
    {
        PayloadKind.Json => JsonContentType,
        PayloadKind.Text => TextContentType,
        _ => BytesContentType,
    };

    /// <summary>
    /// Answers with <paramref name="problem"/> as an RFC 9457 <c>application/problem+json</c> body:
    /// <c>{"type","title","status","detail","errorId","requestId","worker"}</c> (requestId is
    /// <see cref="HttpContext.TraceIdentifier"/>, worker the <c>x-serving-worker</c> header when set).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="problem">One of <see cref="Problems"/>.</param>
    /// <param name="detail">This occurrence, for the client: what failed, never a .NET type or exception name.
    /// A 500's detail gets "; details are in the serving host's log under request id …" appended.</param>
    /// <param name="retryAfter">Sets <c>Retry-After</c> in whole seconds (rounded up).</param>
    /// <param name="exception">For the log line only.</param>
    /// <param name="logMessage">For the log line instead of <paramref name="detail"/> (what the client is not told).</param>
    /// <remarks>
    /// A server error (5xx) writes one log line, <c>fail:</c> for 500 and <c>warn:</c> otherwise:
    /// <c>&lt;errorId&gt; request &lt;requestId&gt;: &lt;message&gt;</c>, even when the response has
    /// already started (then nothing is written to the client). Client errors (4xx) are not logged.
    /// </remarks>
    public static Task WriteProblemAsync(HttpContext context, Problem problem, string detail, TimeSpan? retryAfter = null,
        Exception? exception = null, string? logMessage = null)
    {
        var requestId = context.TraceIdentifier;
        ProblemLog.Write(context, problem, requestId, logMessage ?? detail, exception);
        var response = context.Response;
        if (response.HasStarted)
            return Task.CompletedTask;
        if (problem.Status == StatusCodes.Status500InternalServerError)
            detail += ProblemLog.SeeLog(requestId);
        if (retryAfter is { } delay)
            response.Headers.RetryAfter = RetryAfterSeconds(delay);
        var body = ProblemBody(problem, detail, requestId, WorkerOf(context), extensions: null);
        return WriteBodyAsync(context, problem.Status, ProblemContentType, body);
    }

    /// <summary>A problem body; <paramref name="extensions"/> writes extra members after the standard ones.</summary>
    public static ReadOnlyMemory<byte> ProblemBody(Problem problem, string detail, string requestId, string? worker, Action<Utf8JsonWriter>? extensions)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", problem.Type);
            writer.WriteString("title", problem.Title);
            writer.WriteNumber("status", problem.Status);
            writer.WriteString("detail", detail);
            writer.WriteString("errorId", problem.Id);
            writer.WriteString("requestId", requestId);
            if (worker is not null)
                writer.WriteString("worker", worker);
            extensions?.Invoke(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    /// <summary>The x-serving-worker header of the response, when set.</summary>
    public static string? WorkerOf(HttpContext context) =>
        context.Response.Headers.TryGetValue(ApiHandler.WorkerHeader, out var worker) && worker.Count == 1 ? worker[0] : null;

    /// <summary>Whole seconds, rounded up, never negative.</summary>
    public static string RetryAfterSeconds(TimeSpan delay) =>
        ((long)Math.Ceiling(Math.Max(0, delay.TotalSeconds))).ToString(CultureInfo.InvariantCulture);

    public static Task WriteJsonAsync(HttpContext context, int status, ReadOnlyMemory<byte> json) =>
        WriteBodyAsync(context, status, JsonContentType, json);

    public static Task WriteBodyAsync(HttpContext context, int status, string contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method))
            return Task.CompletedTask;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>Writes a successful runner result.</summary>
    public static Task WriteResultAsync(HttpContext context, string contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (body.IsEmpty)
            return Task.CompletedTask;
        var write = response.BodyWriter.WriteAsync(body, context.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }
}
