using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Serving.Demo;

/// <summary>
/// A classify request: either <c>{"features":[sl,sw,pl,pw]}</c> for one flower or
/// <c>{"instances":[[...],[...]]}</c> for several. Exactly one of the two must be given.
/// </summary>
public sealed class IrisRequest
{
    /// <summary>One flower's four measurements (cm): sepal length, sepal width, petal length, petal width.</summary>
    public double[]? Features { get; set; }

    /// <summary>Several flowers, each an array of four measurements.</summary>
    public double[][]? Instances { get; set; }
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
/// The classify response. On the wire it is the bare prediction object for a <c>features</c>
/// request and a JSON array of prediction objects for an <c>instances</c> request (see
/// <see cref="IrisResponseConverter"/>).
/// </summary>
[JsonConverter(typeof(IrisResponseConverter))]
public sealed class IrisResponse
{
    private IrisResponse(IrisPrediction? prediction, IrisPrediction[]? predictions)
    {
        Prediction = prediction;
        Predictions = predictions;
    }

    /// <summary>The answer to a <c>features</c> request, else null.</summary>
    public IrisPrediction? Prediction { get; }

    /// <summary>The answers to an <c>instances</c> request, in request order, else null.</summary>
    public IReadOnlyList<IrisPrediction>? Predictions { get; }

    public static IrisResponse Single(IrisPrediction prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return new IrisResponse(prediction, null);
    }

    public static IrisResponse Batch(IrisPrediction[] predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        return new IrisResponse(null, predictions);
    }
}

/// <summary>Writes an <see cref="IrisResponse"/> as an object or an array; reads either back.</summary>
public sealed class IrisResponseConverter : JsonConverter<IrisResponse>
{
    private static readonly JsonEncodedText LabelName = JsonEncodedText.Encode("label");
    private static readonly JsonEncodedText ProbabilitiesName = JsonEncodedText.Encode("probabilities");

    public override IrisResponse Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var info = (JsonTypeInfo<IrisPrediction>)options.GetTypeInfo(typeof(IrisPrediction));
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return IrisResponse.Single(JsonSerializer.Deserialize(ref reader, info)
                    ?? throw new JsonException("Expected a prediction object."));
            case JsonTokenType.StartArray:
                var predictions = new List<IrisPrediction>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    predictions.Add(JsonSerializer.Deserialize(ref reader, info)
                        ?? throw new JsonException("Expected a prediction object."));
                }
                return IrisResponse.Batch([.. predictions]);
            default:
                throw new JsonException("Expected a prediction object or an array of them.");
        }
    }

    public override void Write(Utf8JsonWriter writer, IrisResponse value, JsonSerializerOptions options)
    {
        if (value.Prediction is { } single)
        {
            WritePrediction(writer, single);
            return;
        }
        writer.WriteStartArray();
        IReadOnlyList<IrisPrediction> predictions = value.Predictions!;
        for (int i = 0; i < predictions.Count; i++)
        {
            WritePrediction(writer, predictions[i]);
        }
        writer.WriteEndArray();
    }

    private static void WritePrediction(Utf8JsonWriter writer, IrisPrediction prediction)
    {
        writer.WriteStartObject();
        writer.WriteString(LabelName, prediction.Label);
        writer.WriteStartArray(ProbabilitiesName);
        double[] probabilities = prediction.Probabilities;
        for (int k = 0; k < probabilities.Length; k++)
        {
            writer.WriteNumberValue(probabilities[k]);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>Source-generated (reflection-free) JSON metadata for the classifier's request and response.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IrisRequest))]
[JsonSerializable(typeof(IrisResponse))]
[JsonSerializable(typeof(IrisPrediction))]
public sealed partial class IrisJsonContext : JsonSerializerContext
{
}
