using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime.Tensors;
using Serving.Abstractions;

namespace Serving.Worker.Runners.Onnx;

/// <summary>
/// JSON ↔ tensors for an ONNX runner. A request is <c>{"&lt;input name&gt;": nested array or scalar, …}</c>
/// naming every input (a model with one input also takes the bare array); a response is
/// <c>{"&lt;output name&gt;": nested arrays, …}</c>. float32 tensors are JSON numbers, int64 integers,
/// strings strings. With a batch axis, an input is either rows (the model's rank: <c>[[5.1,3.5,1.4,0.2]]</c>
/// for <c>[batch,4]</c>) or one row without that axis (<c>[5.1,3.5,1.4,0.2]</c>), answered alike.
/// Input that does not fit is <see cref="RunnerInputException"/> naming the input and the expected shape.
/// </summary>
internal static class OnnxJsonCodec
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static OnnxRequest Decode(ReadOnlyMemory<byte> body, IReadOnlyList<OnnxTensorSpec> inputs, bool batchable)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new RunnerJsonSyntaxException(string.Create(CultureInfo.InvariantCulture,
                $"is not valid JSON (syntax error in line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1})"), ex);
        }
        using (document)
        {
            var root = document.RootElement;
            var values = new JsonElement?[inputs.Count];
            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in root.EnumerateObject())
                {
                    var index = IndexOf(inputs, property.Name);
                    if (index < 0)
                        throw new RunnerInputException($"the model has no input '{property.Name}'; its inputs are {List(inputs)}");
                    if (values[index] is not null)
                        throw new RunnerInputException($"input '{property.Name}' is given twice");
                    values[index] = property.Value;
                }
                for (var i = 0; i < inputs.Count; i++)
                {
                    if (values[i] is null)
                        throw new RunnerInputException($"input '{inputs[i].Name}' is missing; the model's inputs are {List(inputs)}");
                }
            }
            else if (inputs.Count == 1)
            {
                values[0] = root;
            }
            else
            {
                throw new RunnerInputException($"the model has {inputs.Count} inputs: send an object naming each, {List(inputs)}");
            }

            var tensors = new OnnxTensor[inputs.Count];
            var rows = -1;
            var oneRow = false;
            for (var i = 0; i < inputs.Count; i++)
            {
                var spec = inputs[i];
                var (tensor, itemOneRow) = ToTensor(values[i]!.Value, spec, batchable);
                var itemRows = batchable ? (int)tensor.Shape[0] : 1;
                if (i == 0)
                {
                    rows = itemRows;
                    oneRow = itemOneRow;
                }
                else if (itemRows != rows || itemOneRow != oneRow)
                {
                    throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                        $"input '{spec.Name}' has {(itemOneRow ? "one row without the batch axis" : $"{itemRows} rows")} but '{inputs[0].Name}' has {(oneRow ? "one row without the batch axis" : $"{rows} rows")}; every input needs the same rows"));
                }
                tensors[i] = tensor;
            }
            if (batchable && rows == 0)
                throw new RunnerInputException($"input '{inputs[0].Name}' has no rows");
            return new OnnxRequest(tensors, rows, oneRow);
        }
    }

    /// <summary>One input's JSON as a tensor of the model's shape (with the batch axis added for one row).</summary>
    private static (OnnxTensor Tensor, bool OneRow) ToTensor(JsonElement value, OnnxTensorSpec spec, bool batchable)
    {
        var shape = new List<long>();
        var probe = value;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            shape.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0)
                break;
            probe = probe[0];
        }

        var oneRow = batchable && shape.Count == spec.Rank - 1;
        if (oneRow)
            shape.Insert(0, 1);
        var fits = shape.Count == spec.Rank;
        for (var axis = 0; fits && axis < spec.Rank; axis++)
            fits = spec.IsOpen(axis) || spec.Dimensions[axis] == shape[axis];
        if (!fits)
            throw ShapeMismatch(spec, batchable, oneRow ? shape.Skip(1) : shape);

        long count = 1;
        foreach (var d in shape)
            count = checked(count * d);
        var data = OnnxTensor.NewData(spec.ElementType, count);
        var index = 0L;
        // One row without the axis is the same elements: fill from the JSON as it is.
        var jsonShape = oneRow ? shape.Skip(1).ToArray() : shape.ToArray();
        Fill(value, 0, jsonShape, spec, data, ref index, "$." + spec.Name);
        return (new OnnxTensor(spec.ElementType, [.. shape], data), oneRow);
    }

    private static void Fill(JsonElement value, int axis, long[] shape, OnnxTensorSpec spec, Array data, ref long index, string path)
    {
        if (axis < shape.Length)
        {
            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != shape[axis])
                throw new RunnerInputException($"input '{spec.Name}' is not a rectangular array: {path} should be an array of {shape[axis]}; expected shape {spec.ShapeText()}");
            var i = 0;
            foreach (var item in value.EnumerateArray())
                Fill(item, axis + 1, shape, spec, data, ref index, string.Create(CultureInfo.InvariantCulture, $"{path}[{i++}]"));
            return;
        }
        switch (spec.ElementType)
        {
            case TensorElementType.Float:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d) || Math.Abs(d) > float.MaxValue)
                    throw Element(spec, path, value, "a float32 number");
                ((float[])data)[index++] = (float)d;
                break;
            case TensorElementType.Int64:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var l))
                    throw Element(spec, path, value, "an integer (int64)");
                ((long[])data)[index++] = l;
                break;
            default:
                if (value.ValueKind != JsonValueKind.String)
                    throw Element(spec, path, value, "a string");
                ((string[])data)[index++] = value.GetString()!;
                break;
        }
    }

    private static RunnerInputException Element(OnnxTensorSpec spec, string path, JsonElement value, string expected) =>
        new($"input '{spec.Name}' holds {spec.TypeName} elements: {path} should be {expected}, not {Describe(value)}");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "the number " + value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static RunnerInputException ShapeMismatch(OnnxTensorSpec spec, bool batchable, IEnumerable<long> got) =>
        new($"input '{spec.Name}' must have shape {spec.ShapeText()}" +
            (batchable ? $" (or {spec.ShapeText(1)} for one row)" : "") +
            $"; got [{string.Join(",", got.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]");

    private static int IndexOf(IReadOnlyList<OnnxTensorSpec> inputs, string name)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.Equals(inputs[i].Name, name, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    private static string List(IReadOnlyList<OnnxTensorSpec> inputs) => string.Join(", ", inputs.Select(i => i.Describe()));

    /// <summary>The response object: each output as nested arrays (without the batch axis for a one-row request).</summary>
    public static ReadOnlyMemory<byte> Encode(OnnxResponse response, IReadOnlyList<OnnxTensorSpec> outputs)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (var i = 0; i < outputs.Count; i++)
            {
                var tensor = response.Outputs[i];
                writer.WritePropertyName(outputs[i].Name);
                var shape = tensor.Shape;
                var from = response.OneRow && shape.Length > 0 && shape[0] == 1 ? 1 : 0;
                var index = 0L;
                Write(writer, tensor, shape, from, ref index, outputs[i].Name);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private static void Write(Utf8JsonWriter writer, OnnxTensor tensor, long[] shape, int axis, ref long index, string name)
    {
        if (axis < shape.Length)
        {
            writer.WriteStartArray();
            for (var i = 0; i < shape[axis]; i++)
                Write(writer, tensor, shape, axis + 1, ref index, name);
            writer.WriteEndArray();
            return;
        }
        switch (tensor.Data)
        {
            case float[] f:
                var value = f[index++];
                if (!float.IsFinite(value))
                    throw new RunnerResultException($"output '{name}' holds {value.ToString(CultureInfo.InvariantCulture)}, which JSON cannot carry");
                writer.WriteNumberValue(value);
                break;
            case long[] l:
                writer.WriteNumberValue(l[index++]);
                break;
            case string[] s:
                writer.WriteStringValue(s[index++]);
                break;
            default:
                throw new RunnerResultException($"output '{name}' has an element type JSON answers do not carry");
        }
    }
}
