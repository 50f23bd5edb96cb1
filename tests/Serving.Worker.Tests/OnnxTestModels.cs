using System.Text;

namespace Serving.Tests.Onnx;

/// <summary>
/// Small ONNX models written byte by byte (onnx.proto field numbers, opset 13) for the ONNX tests of the
/// worker and the supervisor (linked into Serving.Runtime.Tests): inputs, outputs and nodes, nothing else.
/// A dimension is an int (dim_value, -1 allowed) or a string (dim_param); null leaves the shape out.
/// </summary>
internal static class OnnxTestModels
{
    public const int Float = 1, Int64 = 7, String = 8, Double = 11;

    public sealed record Value(string Name, int ElementType, object[]? Dims);

    public sealed record Node(string Op, string[] Inputs, string[] Outputs);

    /// <summary>Each input copied to the output of the same position (Identity nodes).</summary>
    public static byte[] Identity(params (Value Input, string Output)[] pairs) => Model(
        pairs.Select(p => p.Input).ToArray(),
        pairs.Select(p => p.Input with { Name = p.Output }).ToArray(),
        pairs.Select(p => new Node("Identity", [p.Input.Name], [p.Output])).ToArray());

    public static byte[] Model(Value[] inputs, Value[] outputs, Node[] nodes, long irVersion = 8, string[]? initializers = null)
    {
        var graph = new Proto();
        foreach (var node in nodes)
        {
            var n = new Proto();
            foreach (var i in node.Inputs) n.String(1, i);
            foreach (var o in node.Outputs) n.String(2, o);
            n.String(4, node.Op);
            graph.Message(1, n);
        }
        graph.String(2, "test");
        foreach (var name in initializers ?? [])
        {
            var tensor = new Proto();
            tensor.Varint(1, 1);
            tensor.Varint(2, Float);
            tensor.String(8, name);
            tensor.Bytes(9, new byte[4]);
            graph.Message(5, tensor);
        }
        foreach (var input in inputs) graph.Message(11, ValueInfo(input));
        foreach (var output in outputs) graph.Message(12, ValueInfo(output));
        var opset = new Proto();
        opset.Varint(2, 13);
        var model = new Proto();
        model.Varint(1, irVersion);
        model.String(2, "tests");
        model.Message(7, graph);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static Proto ValueInfo(Value value)
    {
        var tensorType = new Proto();
        tensorType.Varint(1, value.ElementType);
        if (value.Dims is not null)
        {
            var shape = new Proto();
            foreach (var d in value.Dims)
            {
                var dim = new Proto();
                if (d is string param) dim.String(2, param);
                else dim.Varint(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture));
                shape.Message(1, dim);
            }
            tensorType.Message(2, shape);
        }
        var type = new Proto();
        type.Message(1, tensorType);
        var info = new Proto();
        info.String(1, value.Name);
        info.Message(2, type);
        return info;
    }

    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public void Varint(int field, long value)
        {
            Raw((ulong)(field << 3));
            Raw((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, byte[] value)
        {
            Raw((ulong)((field << 3) | 2));
            Raw((ulong)value.Length);
            _bytes.Write(value);
        }

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

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

    /// <summary>The repository root (the directory holding data/iris.csv).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No data/iris.csv above {AppContext.BaseDirectory}.");
    }

    /// <summary>The demo's ONNX classifier, as tools/TrainIris exported it.</summary>
    public static string DemoModel => Path.Combine(RepoRoot(), "module", "demo", "iris.onnx");
}
