using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Serving.Abstractions;

namespace Serving.Demo;

/// <summary>
/// One flower to classify: <c>{"features":[sl,sw,pl,pw]}</c>, or the four numbers alone
/// (<c>[sl,sw,pl,pw]</c>, the form the rows of an <c>{"instances":[…]}</c> request usually take).
/// </summary>
[JsonConverter(typeof(IrisRequestConverter))]
public sealed class IrisRequest
{
    /// <summary>One flower's four measurements (cm): sepal length, sepal width, petal length, petal width.</summary>
    public double[]? Features { get; set; }
}

/// <summary>One classification: <c>{"label":"setosa","probabilities":[p_setosa,p_versicolor,p_virginica]}</c>.</summary>
public sealed class IrisPrediction
{
    [JsonConstructor]
    public IrisPrediction(string label, double[] probabilities)
    {
        Label = label;
        Probabilities = probabilities;
    }

    /// <summary>The most probable class, one of <see cref="IrisModel.Labels"/>.</summary>
    public string Label { get; }

    /// <summary>Probability of each class, in the order of <see cref="IrisModel.Labels"/>.</summary>
    public double[] Probabilities { get; }
}

/// <summary>
/// Reads an <see cref="IrisRequest"/> in either form and checks it on the way: input that is not one
/// flower raises <see cref="RunnerInputException"/> naming the JSON path (from the request's root
/// <c>$</c>; the host rewrites it to <c>$.instances[k]</c> for a row of an <c>instances</c> request) and
/// what was expected, so a bad row fails alone before the model runs. Member names match
/// case-insensitively; members other than <c>features</c> are ignored.
/// </summary>
public sealed class IrisRequestConverter : JsonConverter<IrisRequest>
{
    private const string Shape = "an object with 'features' (4 numbers) or an array of 4 numbers";

    /// <summary>The longest number quoted back to the client.</summary>
    private const int MaxQuotedNumber = 32;

    private static readonly JsonEncodedText FeaturesName = JsonEncodedText.Encode("features");

    /// <summary>A null request is refused with its own message rather than given to the method as null.</summary>
    public override bool HandleNull => true;

    public override IrisRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartArray:
                return new IrisRequest { Features = ReadRow(ref reader, "$") };
            case JsonTokenType.StartObject:
                return ReadObject(ref reader);
            default:
                throw new RunnerInputException($"invalid input in $: expected {Shape}, got {Describe(ref reader)}");
        }
    }

    public override void Write(Utf8JsonWriter writer, IrisRequest value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        writer.WriteStartArray(FeaturesName);
        foreach (double feature in value.Features ?? [])
        {
            writer.WriteNumberValue(feature);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static IrisRequest ReadObject(ref Utf8JsonReader reader)
    {
        double[]? features = null;
        bool instances = false;
        JsonTokenType instancesToken = JsonTokenType.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (string.Equals(name, "features", StringComparison.OrdinalIgnoreCase))
            {
                features = reader.TokenType switch
                {
                    // As before rows could be given in two ways: a null 'features' is a missing one.
                    JsonTokenType.Null => null,
                    JsonTokenType.StartArray => ReadRow(ref reader, "$.features"),
                    _ => throw new RunnerInputException($"invalid input in $.features: expected an array of numbers, got {Describe(ref reader)}"),
                };
            }
            else
            {
                if (string.Equals(name, "instances", StringComparison.OrdinalIgnoreCase))
                {
                    instances = true;
                    instancesToken = reader.TokenType;
                }
                reader.Skip();
            }
        }

        if (instances && features is not null)
        {
            throw new RunnerInputException("invalid input in $: give either 'features' or 'instances', not both");
        }
        if (instances)
        {
            throw new RunnerInputException(instancesToken == JsonTokenType.StartArray
                ? "invalid input in $: 'instances' must be the only member of a request"
                : $"invalid input in $.instances: expected an array of rows ({Shape} each)");
        }
        if (features is null)
        {
            throw new RunnerInputException(
                "invalid input in $: missing 'features' (4 numbers: sepal_length, sepal_width, petal_length, petal_width)");
        }
        return new IrisRequest { Features = features };
    }

    /// <summary>Reads the array the reader is on: exactly <see cref="IrisModel.FeatureCount"/> finite numbers.</summary>
    private static double[] ReadRow(ref Utf8JsonReader reader, string path)
    {
        var row = new double[IrisModel.FeatureCount];
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                    $"invalid input in {path}[{count}]: expected a number, got {Describe(ref reader)}"));
            }
            // A number too large for a double reads as Infinity: refused, never given to the model.
            if (!reader.TryGetDouble(out double value) || !double.IsFinite(value))
            {
                throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                    $"invalid input in {path}[{count}]: expected a number, got {Quote(ref reader)} (out of range)"));
            }
            if (count < row.Length)
            {
                row[count] = value;
            }
            count++;
        }
        if (count != IrisModel.FeatureCount)
        {
            throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                $"invalid input in {path}: expected exactly {IrisModel.FeatureCount} numbers (sepal_length, sepal_width, petal_length, petal_width), got {count}"));
        }
        return row;
    }

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => "a value",
    };

    private static string Quote(ref Utf8JsonReader reader)
    {
        string text = Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray());
        return text.Length <= MaxQuotedNumber ? text : text[..MaxQuotedNumber] + "…";
    }
}

/// <summary>Source-generated (reflection-free) JSON metadata for the classifier's request and response.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IrisRequest))]
[JsonSerializable(typeof(IrisPrediction))]
[JsonSerializable(typeof(IrisPrediction[]))]
public sealed partial class IrisJsonContext : JsonSerializerContext
{
}
