using Microsoft.Extensions.Primitives;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>
/// A request's id: the one the client (or a proxy in front) sent in <c>X-Request-Id</c> when it is a sane token,
/// else Kestrel's own. It is the <c>requestId</c> of error bodies, of gRPC error trailers, of the log lines a
/// failure writes and of the runner call's header, and every response carries it back in <c>X-Request-Id</c>, so
/// one id follows a request from the client through the log.
/// </summary>
internal static class RequestIds
{
    public const string Header = "X-Request-Id";

    /// <summary>The longest id taken from a client; a longer one is replaced (it would bloat every log line).</summary>
    public const int MaxLength = 128;

    /// <summary>Adopts the client's id when acceptable, and echoes the id in the response.</summary>
    public static void Apply(HttpContext context)
    {
        var sent = context.Request.Headers[Header];
        if (sent.Count == 1 && IsAcceptable(sent[0]))
            context.TraceIdentifier = sent[0]!;
        context.Response.Headers[Header] = new StringValues(context.TraceIdentifier);
    }

    /// <summary>1–128 characters of letters, digits and <c>- _ . : / + =</c> (UUIDs, trace ids, base64): nothing that could forge a log line.</summary>
    public static bool IsAcceptable(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
            return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '+' or '='))
                return false;
        }
        return true;
    }
}
