namespace Serving.Runtime.Services.Onnx;

/// <summary>
/// Reads the inputs and outputs of an ONNX model's graph (ModelProto → GraphProto → ValueInfoProto)
/// straight from the protobuf bytes, with no ONNX or protobuf library: pwsh must never load
/// OnnxRuntime, and a check before any process starts needs only these few fields (onnx.proto numbers:
/// ModelProto ir_version 1, graph 7; GraphProto initializer 5, input 11, output 12; ValueInfoProto name 1,
/// type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2; TensorShapeProto dim 1;
/// Dimension dim_value 1, dim_param 2; TensorProto name 8). Weights and nodes are skipped by seeking.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Reads <paramref name="path"/>; throws <see cref="OnnxFormatException"/> for a file that is not an ONNX model.</summary>
    public static OnnxModelInfo Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        return Read(stream);
    }

    /// <summary>Reads a model from a seekable stream (the whole stream is the ModelProto).</summary>
    public static OnnxModelInfo Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
            throw new ArgumentException("The stream must be seekable.", nameof(stream));
        if (stream.Length == 0)
            throw new OnnxFormatException("the file is empty");
        var reader = new ProtobufReader(stream);
        long irVersion = 0;
        (List<OnnxValueInfo> Inputs, List<OnnxValueInfo> Outputs, HashSet<string> Initializers)? graph = null;
        var end = reader.Length;
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    reader.Expect(wire, ProtobufReader.Varint, "ir_version");
                    irVersion = (long)reader.ReadVarint(end);
                    break;
                case 7:
                    reader.Expect(wire, ProtobufReader.LengthDelimited, "graph");
                    graph = ReadGraph(reader, reader.ReadLengthEnd(end));
                    break;
                default:
                    reader.Skip(wire, end);
                    break;
            }
        }
        // Both are required by onnx.proto; bytes that merely parse as protobuf rarely have both.
        if (irVersion <= 0 || irVersion > 1000)
            throw new OnnxFormatException(irVersion == 0 ? "it has no ir_version" : $"its ir_version {irVersion} is not one ONNX defines");
        if (graph is not { } g)
            throw new OnnxFormatException("it has no graph");
        // Before IR version 4 every initializer was also listed as an input; those are weights, not inputs.
        g.Inputs.RemoveAll(i => g.Initializers.Contains(i.Name));
        return new OnnxModelInfo { IrVersion = irVersion, Inputs = g.Inputs, Outputs = g.Outputs };
    }

    private static (List<OnnxValueInfo>, List<OnnxValueInfo>, HashSet<string>) ReadGraph(ProtobufReader reader, long end)
    {
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            switch (field)
            {
                case 5:
                    reader.Expect(wire, ProtobufReader.LengthDelimited, "graph.initializer");
                    if (ReadTensorName(reader, reader.ReadLengthEnd(end)) is { } name)
                        initializers.Add(name);
                    break;
                case 11:
                    reader.Expect(wire, ProtobufReader.LengthDelimited, "graph.input");
                    inputs.Add(ReadValueInfo(reader, reader.ReadLengthEnd(end)));
                    break;
                case 12:
                    reader.Expect(wire, ProtobufReader.LengthDelimited, "graph.output");
                    outputs.Add(ReadValueInfo(reader, reader.ReadLengthEnd(end)));
                    break;
                default:
                    reader.Skip(wire, end);
                    break;
            }
        }
        return (inputs, outputs, initializers);
    }

    private static string? ReadTensorName(ProtobufReader reader, long end)
    {
        string? name = null;
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            if (field == 8 && wire == ProtobufReader.LengthDelimited)
                name = reader.ReadString(end);
            else
                reader.Skip(wire, end);
        }
        return name;
    }

    private static OnnxValueInfo ReadValueInfo(ProtobufReader reader, long end)
    {
        var name = "";
        var elementType = OnnxElementType.Undefined;
        var isTensor = false;
        List<OnnxDimension>? shape = null;
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            if (field == 1 && wire == ProtobufReader.LengthDelimited)
            {
                name = reader.ReadString(end);
            }
            else if (field == 2 && wire == ProtobufReader.LengthDelimited)
            {
                var typeEnd = reader.ReadLengthEnd(end);
                while (reader.TryReadTag(typeEnd, out var typeField, out var typeWire))
                {
                    if (typeField == 1 && typeWire == ProtobufReader.LengthDelimited)
                    {
                        isTensor = true;
                        (elementType, shape) = ReadTensorType(reader, reader.ReadLengthEnd(typeEnd));
                    }
                    else
                    {
                        reader.Skip(typeWire, typeEnd);
                    }
                }
            }
            else
            {
                reader.Skip(wire, end);
            }
        }
        if (name.Length == 0)
            throw new OnnxFormatException("a graph input or output has no name");
        return new OnnxValueInfo { Name = name, ElementType = elementType, IsTensor = isTensor, Shape = shape };
    }

    private static (OnnxElementType, List<OnnxDimension>?) ReadTensorType(ProtobufReader reader, long end)
    {
        var elementType = OnnxElementType.Undefined;
        List<OnnxDimension>? shape = null;
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            if (field == 1 && wire == ProtobufReader.Varint)
            {
                elementType = (OnnxElementType)(int)reader.ReadVarint(end);
            }
            else if (field == 2 && wire == ProtobufReader.LengthDelimited)
            {
                shape = [];
                var shapeEnd = reader.ReadLengthEnd(end);
                while (reader.TryReadTag(shapeEnd, out var dimField, out var dimWire))
                {
                    if (dimField == 1 && dimWire == ProtobufReader.LengthDelimited)
                        shape.Add(ReadDimension(reader, reader.ReadLengthEnd(shapeEnd)));
                    else
                        reader.Skip(dimWire, shapeEnd);
                }
            }
            else
            {
                reader.Skip(wire, end);
            }
        }
        return (elementType, shape);
    }

    private static OnnxDimension ReadDimension(ProtobufReader reader, long end)
    {
        long? value = null;
        string? param = null;
        while (reader.TryReadTag(end, out var field, out var wire))
        {
            if (field == 1 && wire == ProtobufReader.Varint)
                value = (long)reader.ReadVarint(end); // int64: two's complement, so -1 reads back as -1
            else if (field == 2 && wire == ProtobufReader.LengthDelimited)
                param = reader.ReadString(end);
            else
                reader.Skip(wire, end);
        }
        return new OnnxDimension(value, param);
    }
}
