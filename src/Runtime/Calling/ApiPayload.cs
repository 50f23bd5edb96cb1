using System.Text;

namespace Serving.Runtime.Calling;

/// <summary>
/// A body sent to an API or received from it, with its kind: Json (exactly one JSON value, UTF-8), Text
/// (UTF-8) or Bytes. The kind decides the HTTP content type and which field of the gRPC messages carries it.
/// </summary>
public sealed class ApiPayload
{
    private ApiPayload(PayloadKind kind, byte[] bytes)
    {
        Kind = kind;
        Bytes = bytes;
    }

    public PayloadKind Kind { get; }

    public byte[] Bytes { get; }

    /// <summary>The body as text (JSON and Text are UTF-8); for Bytes, the bytes read as UTF-8.</summary>
    public string Text => Encoding.UTF8.GetString(Bytes);

    /// <summary>No input at all: an empty Bytes payload (the API worker passes the runner an empty payload).</summary>
    public static ApiPayload Empty { get; } = new(PayloadKind.Bytes, Array.Empty<byte>());

    public static ApiPayload Json(string json) => new(PayloadKind.Json, Encoding.UTF8.GetBytes(json));

    public static ApiPayload Json(byte[] utf8) => new(PayloadKind.Json, utf8);

    public static ApiPayload FromText(string text) => new(PayloadKind.Text, Encoding.UTF8.GetBytes(text));

    public static ApiPayload FromBytes(byte[] bytes) => new(PayloadKind.Bytes, bytes);

    /// <summary>The HTTP content type of this kind, as the API worker writes it.</summary>
    public string ContentType => Kind switch
    {
        PayloadKind.Json => "application/json",
        PayloadKind.Text => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>The kind a response's content type names: JSON types (problem+json aside), text/*, else bytes.</summary>
    public static PayloadKind KindOf(string? mediaType)
    {
        if (string.IsNullOrEmpty(mediaType)) return PayloadKind.Bytes;
        if (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)) return PayloadKind.Json;
        return mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) ? PayloadKind.Text : PayloadKind.Bytes;
    }

    public static ApiPayload Of(PayloadKind kind, byte[] bytes) => new(kind, bytes);
}
