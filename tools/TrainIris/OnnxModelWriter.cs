using System.Buffers.Binary;
using System.Text;

namespace Serving.Tools.TrainIris;

/// <summary>
/// Writes a trained model as an ONNX file the no-code ONNX runner serves (<c>module/demo/iris.onnx</c>):
/// input <c>features</c> float32 [batch,4] → Sub(means) → Div(std devs) → Gemm(weights, biases, transB)
/// → Softmax → output <c>probabilities</c> float32 [batch,3], and ArgMax → output <c>label</c> int64 [batch]
/// (the index into <see cref="IrisDataset.ClassNames"/>). The same computation as <see cref="SoftmaxModel.Predict"/>,
/// in float32. The protobuf is written by hand (onnx.proto field numbers, opset 13, IR version 8): a few
/// fields do not need a protobuf library. Byte-stable: the same model gives the same bytes.
/// </summary>
public static class OnnxModelWriter
{
    private const long IrVersion = 8;
    private const long Opset = 13;

    // onnx.proto enums.
    private const int Float = 1, Int64 = 7;
    private const int AttributeInt = 2;

    public static byte[] Render(SoftmaxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int features = model.FeatureCount, classes = model.ClassCount;

        var graph = new Proto();
        graph.Message(1, Node(["features", "means"], ["centred"], "standardise_centre", "Sub"));
        graph.Message(1, Node(["centred", "std_devs"], ["standardised"], "standardise_scale", "Div"));
        graph.Message(1, Node(["standardised", "weights", "biases"], ["logits"], "logits", "Gemm", IntAttribute("transB", 1)));
        graph.Message(1, Node(["logits"], ["probabilities"], "softmax", "Softmax", IntAttribute("axis", 1)));
        graph.Message(1, Node(["probabilities"], ["label"], "label", "ArgMax", IntAttribute("axis", 1), IntAttribute("keepdims", 0)));
        graph.String(2, "iris");
        graph.Message(5, FloatTensor("means", [features], model.Means));
        graph.Message(5, FloatTensor("std_devs", [features], model.StdDevs));
        graph.Message(5, FloatTensor("weights", [classes, features], model.Weights));
        graph.Message(5, FloatTensor("biases", [classes], model.Biases));
        graph.String(10, "Iris softmax regression trained by tools/TrainIris on data/iris.csv. features: sepal_length, sepal_width, " +
            "petal_length, petal_width (cm); label: 0 setosa, 1 versicolor, 2 virginica.");
        graph.Message(11, ValueInfo("features", Float, ["batch", features]));
        graph.Message(12, ValueInfo("probabilities", Float, ["batch", classes]));
        graph.Message(12, ValueInfo("label", Int64, ["batch"]));

        var opset = new Proto();
        opset.String(1, "");
        opset.Varint(2, Opset);

        var file = new Proto();
        file.Varint(1, IrVersion);
        file.String(2, "Serving TrainIris");
        file.String(3, "1");
        file.Message(7, graph);
        file.Message(8, opset);
        return file.ToArray();
    }

    /// <summary>Writes the file only when its bytes change; true when it was written.</summary>
    public static bool Write(string path, byte[] bytes)
    {
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
            return false;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, bytes);
        return true;
    }

    private static Proto Node(string[] inputs, string[] outputs, string name, string opType, params Proto[] attributes)
    {
        var node = new Proto();
        foreach (var input in inputs) node.String(1, input);
        foreach (var output in outputs) node.String(2, output);
        node.String(3, name);
        node.String(4, opType);
        foreach (var attribute in attributes) node.Message(5, attribute);
        return node;
    }

    private static Proto IntAttribute(string name, long value)
    {
        var attribute = new Proto();
        attribute.String(1, name);
        attribute.Varint(3, value);
        attribute.Varint(20, AttributeInt);
        return attribute;
    }

    private static Proto FloatTensor(string name, long[] dims, double[] values)
    {
        var tensor = new Proto();
        foreach (var d in dims) tensor.Varint(1, d);
        tensor.Varint(2, Float);
        tensor.String(8, name);
        var raw = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), (float)values[i]);
        tensor.Bytes(9, raw);
        return tensor;
    }

    /// <summary>A tensor ValueInfoProto; a string dimension is symbolic (dim_param), an int fixed (dim_value).</summary>
    private static Proto ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new Proto();
        foreach (var d in dims)
        {
            var dim = new Proto();
            if (d is string param) dim.String(2, param);
            else dim.Varint(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture));
            shape.Message(1, dim);
        }
        var tensorType = new Proto();
        tensorType.Varint(1, elementType);
        tensorType.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensorType);
        var info = new Proto();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    /// <summary>One protobuf message being written: tags, varints and length-delimited fields.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public void Varint(int field, long value)
        {
            Tag(field, 0);
            Raw((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
        }

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
