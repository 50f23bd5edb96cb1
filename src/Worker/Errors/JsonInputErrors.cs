using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Serving.Worker.Errors;

/// <summary>
/// The client's message for JSON input a runner method cannot take: built from the failure's JSON
/// path, the JSON shape the method expects there (<see cref="JsonShapes"/>) and what the input holds
/// there; never from the System.Text.Json exception's message, which names .NET types.
/// For the error path only (it allocates and parses the input again).
/// </summary>
/// <example>
/// <c>invalid input in $.features[0]: expected a number, got 1e309 (out of range)</c>;
/// <c>invalid input in $: expected an object with 'features' and 'instances', got an array</c>.
/// </example>
internal static class JsonInputErrors
{
    /// <summary>The default MaxDepth of System.Text.Json when the options leave it 0.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>How deep the input is parsed again to find what it holds at the failure's path.</summary>
    private const int DocumentMaxDepth = 4096;

    /// <summary>The longest number literal quoted back to the client.</summary>
    private const int MaxQuotedNumber = 32;

    public static string Describe(ReadOnlyMemory<byte> memory, JsonException exception, JsonTypeInfo root)
    {
        var options = root.Options;
        var input = memory.Span;
        if (JsonSyntax.IsBlank(input))
            return $"invalid input: the input is empty; expected {JsonShapes.Describe(root)}";
        var maxDepth = options.MaxDepth == 0 ? DefaultMaxDepth : options.MaxDepth;
        // The reader's own failures (syntax, depth) come wrapped with the reader's exception inside;
        // the serializer's (a value of the wrong shape) do not, and are reported where they happened.
        if (exception.InnerException is JsonException
            && JsonSyntax.Describe(input, "the input", maxDepth, options.ReadCommentHandling, options.AllowTrailingCommas) is { } syntax)
            return "invalid input: " + syntax;

        var path = exception.Path is { Length: > 0 } p ? p : "$";
        var segments = JsonPathSegment.Parse(path);
        var expected = segments is null ? null : JsonShapes.At(root, segments);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(memory, new JsonDocumentOptions
            {
                // Deeper than the serializer reads: it may have stopped at a wrong shape before the limit.
                MaxDepth = DocumentMaxDepth,
                AllowTrailingCommas = options.AllowTrailingCommas,
                CommentHandling = options.ReadCommentHandling == JsonCommentHandling.Disallow ? JsonCommentHandling.Disallow : JsonCommentHandling.Skip,
            });
        }
        catch (JsonException)
        {
            // Broken after the point the serializer stopped at: what it expected there is still right.
            return expected is null ? $"invalid input in {path}" : $"invalid input in {path}: expected {JsonShapes.Describe(expected)}";
        }
        using (document)
        {
            var actual = segments is null ? null : ElementAt(document.RootElement, segments);
            return Compose(path, expected, actual);
        }
    }

    private static string Compose(string path, JsonTypeInfo? expected, JsonElement? actual)
    {
        var got = actual is { } a ? DescribeValue(a, expected) : null;
        if (expected is null)
        {
            return got is null
                ? $"invalid input in {path}: the value does not fit what this method takes"
                : $"invalid input in {path}: {got} does not fit what this method takes";
        }

        var shape = JsonShapes.Describe(expected);
        if (actual is { } element && SameKind(element, expected))
        {
            if (element.ValueKind == JsonValueKind.Object && expected.Kind == JsonTypeInfoKind.Object)
            {
                var missing = MissingRequired(element, expected);
                if (missing.Count > 0)
                    return $"invalid input in {path}: {(missing.Count == 1 ? "member" : "members")} {JsonShapes.Join(missing)} {(missing.Count == 1 ? "is" : "are")} required; expected {shape}";
                if (DisallowsUnknown(expected) && FirstUnknown(element, expected) is { } unknown)
                    return $"invalid input in {path}: '{unknown}' is not a member it takes; expected {shape}";
            }
            if (element.ValueKind == JsonValueKind.String && !IsValidText(element))
                return $"invalid input in {path}: the string is not valid Unicode; expected {shape}";
            if (element.ValueKind != JsonValueKind.Number)
                return $"invalid input in {path}: the value does not have the expected form; expected {shape}";
        }
        return got is null
            ? $"invalid input in {path}: expected {shape}"
            : $"invalid input in {path}: expected {shape}, got {got}";
    }

    /// <summary>The value at <paramref name="path"/>; for a repeated member, its last occurrence (the one that counts).</summary>
    private static JsonElement? ElementAt(JsonElement root, IReadOnlyList<JsonPathSegment> path)
    {
        var element = root;
        foreach (var segment in path)
        {
            if (segment.Name is { } name)
            {
                if (element.ValueKind != JsonValueKind.Object)
                    return null;
                JsonElement? exact = null, insensitive = null;
                foreach (var member in element.EnumerateObject())
                {
                    if (member.NameEquals(name))
                        exact = member.Value;
                    else if (string.Equals(member.Name, name, StringComparison.OrdinalIgnoreCase))
                        insensitive = member.Value;
                }
                if ((exact ?? insensitive) is not { } next)
                    return null;
                element = next;
            }
            else
            {
                if (element.ValueKind != JsonValueKind.Array || segment.Index >= element.GetArrayLength())
                    return null;
                element = element[segment.Index];
            }
        }
        return element;
    }

    /// <summary>"an object", "a string", "null", or a number as written (with why it does not fit).</summary>
    private static string DescribeValue(JsonElement element, JsonTypeInfo? expected)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return "an object";
            case JsonValueKind.Array:
                return "an array";
            case JsonValueKind.String:
                return "a string";
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Null:
                return "null";
            case JsonValueKind.Number:
            {
                var raw = element.GetRawText();
                var quoted = raw.Length <= MaxQuotedNumber ? raw : raw[..MaxQuotedNumber] + "…";
                var kind = expected is null ? JsonShapes.NumberKind.None : JsonShapes.NumberKindOf(expected);
                if (kind == JsonShapes.NumberKind.Float)
                    return $"{quoted} (out of range)";
                if (kind == JsonShapes.NumberKind.Integer)
                    return $"{quoted} (not an integer in that range)";
                return "a number";
            }
            default:
                return "a value";
        }
    }

    private static bool SameKind(JsonElement element, JsonTypeInfo expected)
    {
        if (element.ValueKind == JsonValueKind.Null)
            return false;
        var kind = JsonShapes.ValueKindOf(expected);
        return kind is null
            || kind == element.ValueKind
            || (kind == JsonValueKind.True && element.ValueKind == JsonValueKind.False);
    }

    private static List<string> MissingRequired(JsonElement element, JsonTypeInfo info)
    {
        var missing = new List<string>();
        foreach (var member in JsonShapes.Members(info))
        {
            if (!JsonShapes.IsRequired(member, info.Options))
                continue;
            var found = false;
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(member.Name)
                    || (info.Options.PropertyNameCaseInsensitive && string.Equals(property.Name, member.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    found = true;
                    break;
                }
            }
            if (!found)
                missing.Add($"'{member.Name}'");
        }
        return missing;
    }

    private static bool DisallowsUnknown(JsonTypeInfo info) =>
        (info.UnmappedMemberHandling ?? info.Options.UnmappedMemberHandling) == JsonUnmappedMemberHandling.Disallow;

    private static string? FirstUnknown(JsonElement element, JsonTypeInfo info)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (JsonShapes.FindMember(info, property.Name) is null)
                return property.Name;
        }
        return null;
    }

    private static bool IsValidText(JsonElement element)
    {
        try
        {
            element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
