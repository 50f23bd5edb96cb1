using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Serving.Worker.Runners;

/// <summary>
/// System.Text.Json reads a number too large for a <c>double</c> or <c>float</c> (<c>1e309</c>) as
/// Infinity, silently; an integer type rejects an out-of-range number. This makes floating-point
/// input behave like integer input: a JSON number that does not fit is invalid input (the decoder
/// then names its path), never an Infinity handed to the runner method.
/// </summary>
/// <remarks>
/// Applied by copying the runner's options with two converters in front. Not applied when the runner
/// asked for something else: options or any type or member of the input with a number handling of
/// its own (<c>AllowNamedFloatingPointLiterals</c> reads "Infinity" on purpose), or a converter of its
/// own for <c>double</c> or <c>float</c>. Output is encoded with the runner's options as they are.
/// </remarks>
internal static class FiniteNumbers
{
    /// <summary>The options to decode <paramref name="inputType"/> with: guarded when that changes nothing else.</summary>
    public static JsonSerializerOptions ForInput(JsonSerializerOptions options, Type inputType)
    {
        if ((options.NumberHandling & JsonNumberHandling.AllowNamedFloatingPointLiterals) != 0)
            return options;
        var fromStrings = (options.NumberHandling & JsonNumberHandling.AllowReadingFromString) != 0;
        foreach (var converter in options.Converters)
        {
            if (converter.CanConvert(typeof(double)) || converter.CanConvert(typeof(float)))
                return options;
        }
        try
        {
            if (!options.IsReadOnly)
                options.MakeReadOnly(populateMissingResolver: true);
            if (UsesNumberHandling(options.GetTypeInfo(inputType), options, []))
                return options;
            var guarded = new JsonSerializerOptions(options);
            guarded.Converters.Insert(0, new Finite<double>(fromStrings));
            guarded.Converters.Insert(1, new Finite<float>(fromStrings));
            guarded.MakeReadOnly();
            guarded.GetTypeInfo(inputType);
            return guarded;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // Whatever the runner's metadata cannot do with the copy, it does as it was.
            return options;
        }
    }

    private static bool UsesNumberHandling(JsonTypeInfo info, JsonSerializerOptions options, HashSet<Type> seen)
    {
        if (!seen.Add(info.Type))
            return false;
        if (info.NumberHandling is not null)
            return true;
        if (Nullable.GetUnderlyingType(info.Type) is { } underlying)
            return UsesNumberHandling(options.GetTypeInfo(underlying), options, seen);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (var property in info.Properties)
                {
                    if (property.NumberHandling is not null)
                        return true;
                    if (property.CustomConverter is null && UsesNumberHandling(options.GetTypeInfo(property.PropertyType), options, seen))
                        return true;
                }
                return false;
            case JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary when info.ElementType is { } element:
                return UsesNumberHandling(options.GetTypeInfo(element), options, seen);
            default:
                return false;
        }
    }

    /// <summary>The number styles of a JSON number (what AllowReadingFromString accepts inside a string).</summary>
    private const NumberStyles JsonNumber = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>A <c>double</c> or <c>float</c> that must be finite: anything else is a JsonException (the decoder names the path).</summary>
    private sealed class Finite<T>(bool fromStrings) : JsonConverter<T> where T : struct, IFloatingPointIeee754<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            T value = default;
            var ok = reader.TokenType switch
            {
                JsonTokenType.Number => TryGetNumber(ref reader, out value),
                JsonTokenType.String when fromStrings => T.TryParse(reader.GetString(), JsonNumber, CultureInfo.InvariantCulture, out value),
                _ => false,
            };
            if (!ok || !T.IsFinite(value))
                throw new JsonException();
            return value;
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            // Specialised per T by the JIT: no boxing.
            if (typeof(T) == typeof(float))
                writer.WriteNumberValue((float)(object)value);
            else
                writer.WriteNumberValue((double)(object)value);
        }

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            T.TryParse(reader.GetString(), JsonNumber, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value)
                ? value
                : throw new JsonException();

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value.ToString("R", CultureInfo.InvariantCulture));

        private static bool TryGetNumber(ref Utf8JsonReader reader, out T value)
        {
            bool ok;
            if (typeof(T) == typeof(float))
            {
                ok = reader.TryGetSingle(out var single);
                value = (T)(object)single;
            }
            else
            {
                ok = reader.TryGetDouble(out var number);
                value = (T)(object)number;
            }
            return ok;
        }
    }
}
