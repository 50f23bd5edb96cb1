using System.Text.Json;
using System.Text.Unicode;

namespace Serving.Worker.Errors;

/// <summary>
/// Whether a payload is one JSON value in UTF-8, and if not, why, in words for the client: never
/// a System.Text.Json message (those name .NET types and reader internals).
/// </summary>
internal static class JsonSyntax
{
    /// <summary>How deep a JSON API's input may nest (objects and arrays).</summary>
    public const int MaxDepth = ServingDefaults.RawJsonMaxDepth;

    private static readonly JsonReaderOptions Strict = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth };

    /// <summary>
    /// True when <paramref name="body"/> holds exactly one JSON value (whitespace around it allowed),
    /// nesting at most <see cref="MaxDepth"/> levels, with valid UTF-8 in every string. One pass, no allocation.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            return false;
        var reader = new Utf8JsonReader(body, Strict);
        try
        {
            if (!reader.Read())
                return false;
            do
            {
                // The reader checks the structure, not the bytes inside strings.
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !Utf8.IsValid(reader.ValueSpan))
                    return false;
            }
            while (reader.Read());
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Why <paramref name="input"/> is not one JSON value, as a sentence about <paramref name="noun"/>
    /// ("the request body is empty"); null when it is one. For the error path only (it allocates).
    /// </summary>
    public static string? Describe(ReadOnlySpan<byte> input, string noun, int maxDepth = MaxDepth,
        JsonCommentHandling comments = JsonCommentHandling.Disallow, bool allowTrailingCommas = false) =>
        Explain(input, maxDepth, comments, allowTrailingCommas) is { } why ? $"{noun} {why}" : null;

    /// <summary>
    /// Why <paramref name="input"/> is not one JSON value, as a predicate the caller puts its own noun
    /// before ("is empty", "is not valid JSON (syntax error in line 1, position 2)"): the runner
    /// protocol's InvalidJson message, which the HTTP front door tells about "the request body" and the
    /// gRPC front door about "the input". Null when it is one. For the error path only (it allocates).
    /// </summary>
    public static string? Explain(ReadOnlySpan<byte> input, int maxDepth = MaxDepth,
        JsonCommentHandling comments = JsonCommentHandling.Disallow, bool allowTrailingCommas = false)
    {
        if (IsBlank(input))
            return "is empty";
        var reader = new Utf8JsonReader(input, new JsonReaderOptions
        {
            CommentHandling = comments == JsonCommentHandling.Allow ? JsonCommentHandling.Skip : comments,
            AllowTrailingCommas = allowTrailingCommas,
            // Deeper than the limit is reported below, in our words.
            MaxDepth = int.MaxValue,
        });
        var complete = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (reader.CurrentDepth + 1 > maxDepth)
                            return $"nests deeper than {maxDepth} levels";
                        break;
                    case JsonTokenType.String or JsonTokenType.PropertyName:
                        if (!Utf8.IsValid(reader.ValueSpan))
                            return $"is not valid UTF-8 (in the string from byte offset {reader.TokenStartIndex})";
                        break;
                }
                if (reader.CurrentDepth == 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.PropertyName))
                    complete = true;
            }
        }
        catch (JsonException ex)
        {
            var where = $"line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}";
            return complete
                ? $"has more after its JSON value ({where})"
                : $"is not valid JSON (syntax error in {where})";
        }
        // Comments the reader skipped were not looked at.
        return Utf8.IsValid(input) ? null : "is not valid UTF-8";
    }

    /// <summary>True when <paramref name="input"/> holds nothing but JSON whitespace.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> input) => input.IndexOfAnyExcept(" \t\r\n"u8) < 0;
}
