using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Serving.Worker.Errors;

/// <summary>
/// What JSON a runner method takes, in words for its clients ("an array of numbers", "an object
/// with 'features' and 'instances'"), read from the runner's own System.Text.Json metadata: members
/// by their JSON names, array and dictionary elements, numbers with their ranges. Never a .NET name.
/// For the error path only (it allocates).
/// </summary>
internal static class JsonShapes
{
    /// <summary>How many members of an object a description lists before "and N more".</summary>
    private const int MaxMembersListed = 6;

    /// <summary>How deep a description follows arrays and objects inside arrays and objects.</summary>
    private const int MaxDescribedDepth = 3;

    /// <summary>The kind of number a type takes, or None.</summary>
    public enum NumberKind { None, Integer, Float }

    /// <summary>
    /// The metadata of the value at <paramref name="path"/> below <paramref name="root"/>: object
    /// members by JSON name (case-insensitively when the options say so), array and dictionary
    /// elements. Null when the path leaves what the metadata describes.
    /// </summary>
    public static JsonTypeInfo? At(JsonTypeInfo root, IReadOnlyList<JsonPathSegment> path)
    {
        var info = root;
        foreach (var segment in path)
        {
            info = Unwrap(info);
            if (info is null)
                return null;
            Type? next;
            if (segment.Name is { } name)
            {
                next = info.Kind switch
                {
                    JsonTypeInfoKind.Object => FindMember(info, name)?.PropertyType,
                    JsonTypeInfoKind.Dictionary => info.ElementType,
                    _ => null,
                };
            }
            else
            {
                next = info.Kind == JsonTypeInfoKind.Enumerable ? info.ElementType : null;
            }
            if (next is null || TryGetInfo(info.Options, next) is not { } nextInfo)
                return null;
            info = nextInfo;
        }
        return info;
    }

    /// <summary>The member of an object that JSON name <paramref name="name"/> binds to, else null.</summary>
    public static JsonPropertyInfo? FindMember(JsonTypeInfo info, string name)
    {
        JsonPropertyInfo? insensitive = null;
        foreach (var property in info.Properties)
        {
            if (property.IsExtensionData)
                continue;
            if (string.Equals(property.Name, name, StringComparison.Ordinal))
                return property;
            if (insensitive is null && string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                insensitive = property;
        }
        return insensitive;
    }

    /// <summary>The members a JSON object may set: settable or bound to a constructor parameter.</summary>
    public static List<JsonPropertyInfo> Members(JsonTypeInfo info)
    {
        var members = new List<JsonPropertyInfo>();
        foreach (var property in info.Properties)
        {
            if (!property.IsExtensionData && (property.Set is not null || property.AssociatedParameter is not null))
                members.Add(property);
        }
        return members;
    }

    /// <summary>True when the member must be present in the JSON.</summary>
    public static bool IsRequired(JsonPropertyInfo property, JsonSerializerOptions options) =>
        property.IsRequired
        || (options.RespectRequiredConstructorParameters && property.AssociatedParameter is { HasDefaultValue: false, IsMemberInitializer: false });

    /// <summary>"a number", "an array of numbers", "an object with 'a' and 'b'"…</summary>
    public static string Describe(JsonTypeInfo info) => Describe(info, plural: false, depth: 0);

    /// <summary>Whether <paramref name="info"/> takes a JSON number, and which kind.</summary>
    public static NumberKind NumberKindOf(JsonTypeInfo info)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        if (info.Kind != JsonTypeInfoKind.None || type.IsEnum)
            return NumberKind.None;
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => NumberKind.Integer,
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => NumberKind.Float,
            _ when type == typeof(Int128) || type == typeof(UInt128) || type == typeof(BigInteger) => NumberKind.Integer,
            _ when type == typeof(Half) => NumberKind.Float,
            _ => NumberKind.None,
        };
    }

    /// <summary>The JSON value kinds a value described by <paramref name="info"/> may be; null when any.</summary>
    public static JsonValueKind? ValueKindOf(JsonTypeInfo info)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary:
                return JsonValueKind.Object;
            case JsonTypeInfoKind.Enumerable:
                return JsonValueKind.Array;
        }
        if (NumberKindOf(info) != NumberKind.None)
            return JsonValueKind.Number;
        if (type == typeof(bool))
            return JsonValueKind.True;
        if (type == typeof(string) || type == typeof(char) || type == typeof(Guid) || type == typeof(DateTime)
            || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly) || type == typeof(TimeSpan)
            || type == typeof(Uri) || type == typeof(Version) || type == typeof(byte[]))
            return JsonValueKind.String;
        return null;
    }

    private static string Describe(JsonTypeInfo info, bool plural, int depth)
    {
        if (Nullable.GetUnderlyingType(info.Type) is { } underlying)
        {
            var inner = TryGetInfo(info.Options, underlying);
            var text = inner is null ? Primitive(underlying, plural) : Describe(inner, plural, depth);
            return plural ? text + " or nulls" : text + " or null";
        }
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
            {
                var noun = plural ? "objects" : "an object";
                var members = depth < MaxDescribedDepth ? Members(info) : [];
                return members.Count == 0 ? noun : $"{noun} with {List(members, info.Options)}";
            }
            case JsonTypeInfoKind.Enumerable:
            {
                var noun = plural ? "arrays" : "an array";
                var element = depth < MaxDescribedDepth && info.ElementType is { } e ? TryGetInfo(info.Options, e) : null;
                return element is null ? noun : $"{noun} of {Describe(element, plural: true, depth + 1)}";
            }
            case JsonTypeInfoKind.Dictionary:
            {
                var noun = plural ? "objects" : "an object";
                var element = depth < MaxDescribedDepth && info.ElementType is { } e ? TryGetInfo(info.Options, e) : null;
                return element is null ? noun : $"{noun} whose member values are {Describe(element, plural: true, depth + 1)}";
            }
            default:
                return Primitive(info.Type, plural);
        }
    }

    private static string Primitive(Type type, bool plural)
    {
        if (type == typeof(bool))
            return plural ? "true or false values" : "true or false";
        if (type == typeof(string))
            return plural ? "strings" : "a string";
        if (type == typeof(char))
            return plural ? "one-character strings" : "a one-character string";
        if (Range(type) is { } range)
            return plural ? $"integers from {range.Min} to {range.Max}" : $"an integer from {range.Min} to {range.Max}";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal) || type == typeof(Half))
            return plural ? "numbers" : "a number";
        if (type == typeof(BigInteger))
            return plural ? "integers" : "an integer";
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
            return plural ? "date and time strings (ISO 8601)" : "a date and time string (ISO 8601)";
        if (type == typeof(DateOnly))
            return plural ? "date strings (yyyy-mm-dd)" : "a date string (yyyy-mm-dd)";
        if (type == typeof(TimeOnly))
            return plural ? "time of day strings (hh:mm:ss)" : "a time of day string (hh:mm:ss)";
        if (type == typeof(TimeSpan))
            return plural ? "duration strings ([d.]hh:mm:ss)" : "a duration string ([d.]hh:mm:ss)";
        if (type == typeof(Guid))
            return plural ? "UUID strings" : "a UUID string";
        if (type == typeof(Uri))
            return plural ? "URI strings" : "a URI string";
        if (type == typeof(Version))
            return plural ? "version strings (like 1.2.3)" : "a version string (like 1.2.3)";
        if (type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>))
            return plural ? "base64 strings" : "a base64 string";
        if (type.IsEnum)
            return plural ? "allowed values" : "one of the allowed values";
        if (type == typeof(JsonObject))
            return plural ? "objects" : "an object";
        if (type == typeof(JsonArray))
            return plural ? "arrays" : "an array";
        if (type == typeof(JsonElement) || type == typeof(JsonDocument) || type == typeof(JsonNode) || type == typeof(JsonValue) || type == typeof(object))
            return plural ? "JSON values" : "any JSON value";
        return plural ? "values in the expected format" : "a value in the expected format";
    }

    private static (string Min, string Max)? Range(Type type) => Type.GetTypeCode(type) switch
    {
        _ when type.IsEnum => null,
        TypeCode.Byte => R(byte.MinValue, byte.MaxValue),
        TypeCode.SByte => R(sbyte.MinValue, sbyte.MaxValue),
        TypeCode.Int16 => R(short.MinValue, short.MaxValue),
        TypeCode.UInt16 => R(ushort.MinValue, ushort.MaxValue),
        TypeCode.Int32 => R(int.MinValue, int.MaxValue),
        TypeCode.UInt32 => R(uint.MinValue, uint.MaxValue),
        TypeCode.Int64 => R(long.MinValue, long.MaxValue),
        TypeCode.UInt64 => R(ulong.MinValue, ulong.MaxValue),
        _ when type == typeof(Int128) => R(Int128.MinValue, Int128.MaxValue),
        _ when type == typeof(UInt128) => R(UInt128.MinValue, UInt128.MaxValue),
        _ => null,
    };

    private static (string, string) R<T>(T min, T max) where T : IFormattable =>
        (min.ToString(null, CultureInfo.InvariantCulture), max.ToString(null, CultureInfo.InvariantCulture));

    /// <summary>'a', 'b' (required) and 'c' — at most <see cref="MaxMembersListed"/>, then "and N more".</summary>
    public static string List(IReadOnlyList<JsonPropertyInfo> members, JsonSerializerOptions options)
    {
        var names = new List<string>(Math.Min(members.Count, MaxMembersListed));
        for (var i = 0; i < members.Count && i < MaxMembersListed; i++)
            names.Add(IsRequired(members[i], options) ? $"'{members[i].Name}' (required)" : $"'{members[i].Name}'");
        var more = members.Count - names.Count;
        return Join(names, more);
    }

    /// <summary>"x", "x and y", "x, y and z"; with <paramref name="more"/> &gt; 0, "x, y and 3 more".</summary>
    public static string Join(IReadOnlyList<string> items, int more = 0)
    {
        var text = new StringBuilder();
        var count = items.Count + (more > 0 ? 1 : 0);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
                text.Append(i == count - 1 ? " and " : ", ");
            text.Append(i < items.Count ? items[i] : $"{more} more");
        }
        return text.ToString();
    }

    /// <summary>Follows Nullable&lt;T&gt; to T's metadata.</summary>
    private static JsonTypeInfo? Unwrap(JsonTypeInfo info) =>
        Nullable.GetUnderlyingType(info.Type) is { } underlying ? TryGetInfo(info.Options, underlying) : info;

    private static JsonTypeInfo? TryGetInfo(JsonSerializerOptions options, Type type)
    {
        try
        {
            return options.GetTypeInfo(type);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }
}
