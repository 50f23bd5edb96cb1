using System.Buffers;
using System.Text.Json;
using Serving.Worker.Hosting;

namespace Serving.Worker.Api;

/// <summary>Small helpers for API responses: content types and the JSON error shape.</summary>
internal static class ApiResponses
{
    /// <summary>Bodies are JSON documents, never embedded in HTML: no need to escape quotes and the like.</summary>
    public static readonly JsonWriterOptions JsonWriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string JsonContentType = "application/json";
    public const string TextContentType = "text/plain; charset=utf-8";
    public const string BytesContentType = "application/octet-stream";

    public static string ContentTypeOf(PayloadKind kind) => kind switch
    {
        PayloadKind.Json => JsonContentType,
        PayloadKind.Text => TextContentType,
        _ => BytesContentType,
    };

    /// <summary>Writes <c>{"error":"...","status":N}</c> unless the response has already started.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        if (response.HasStarted)
            return Task.CompletedTask;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteNumber("status", status);
            writer.WriteEndObject();
        }
        return WriteJsonAsync(context, status, buffer.WrittenMemory);
    }

    public static Task WriteJsonAsync(HttpContext context, int status, ReadOnlyMemory<byte> json)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = json.Length;
        if (HttpMethods.IsHead(context.Request.Method))
            return Task.CompletedTask;
        return response.Body.WriteAsync(json, context.RequestAborted).AsTask();
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

    /// <summary>True when <paramref name="body"/> holds exactly one JSON value (whitespace around it allowed).</summary>
    public static bool IsValidJson(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            return false;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            if (!reader.Read())
                return false;
            while (reader.Read())
            {
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
