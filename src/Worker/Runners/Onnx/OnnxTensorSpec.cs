using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Serving.Worker.Runners.Onnx;

/// <summary>A graph input or output of a loaded model: its name, element type and dimensions (−1: dynamic).</summary>
internal sealed class OnnxTensorSpec(string name, TensorElementType elementType, long[] dimensions, string[] symbolic)
{
    public string Name { get; } = name;
    public TensorElementType ElementType { get; } = elementType;

    /// <summary>The model's dimensions; −1 for a size it leaves open (symbolic or unknown).</summary>
    public long[] Dimensions { get; } = dimensions;

    /// <summary>A name per dimension ("batch"), "" where the model gives none.</summary>
    public string[] Symbolic { get; } = symbolic;

    public int Rank => Dimensions.Length;

    /// <summary>The first axis is the batch axis: the model leaves its size open.</summary>
    public bool HasDynamicFirstAxis => Dimensions.Length > 0 && IsOpen(0);

    public bool IsOpen(int axis) => Dimensions[axis] < 0;

    public static OnnxTensorSpec From(string name, NodeMetadata metadata)
    {
        var dims = Array.ConvertAll(metadata.Dimensions, d => (long)d);
        var symbolic = metadata.SymbolicDimensions ?? new string[dims.Length];
        for (var i = 0; i < symbolic.Length; i++)
            symbolic[i] ??= "";
        return new OnnxTensorSpec(name, metadata.ElementDataType, dims, symbolic);
    }

    /// <summary>The shape as messages show it: <c>[batch,4]</c>.</summary>
    public string ShapeText(int fromAxis = 0)
    {
        var parts = new List<string>();
        for (var i = fromAxis; i < Dimensions.Length; i++)
            parts.Add(Dimensions[i] >= 0 ? Dimensions[i].ToString(CultureInfo.InvariantCulture) : Symbolic[i].Length > 0 ? Symbolic[i] : "?");
        return "[" + string.Join(",", parts) + "]";
    }

    public string TypeName => ElementType switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Int64 => "int64",
        TensorElementType.String => "string",
        _ => ElementType.ToString(),
    };

    /// <summary>"'features' ([batch,4] float32)", as a list of inputs shows each.</summary>
    public string Describe() => $"'{Name}' ({ShapeText()} {TypeName})";
}
