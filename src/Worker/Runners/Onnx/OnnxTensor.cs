using Microsoft.ML.OnnxRuntime.Tensors;

namespace Serving.Worker.Runners.Onnx;

/// <summary>
/// A tensor in managed memory, row-major: <see cref="Data"/> is a <c>float[]</c>, <c>long[]</c> or
/// <c>string[]</c> of exactly the product of <see cref="Shape"/> elements.
/// </summary>
internal sealed class OnnxTensor(TensorElementType elementType, long[] shape, Array data)
{
    public TensorElementType ElementType { get; } = elementType;
    public long[] Shape { get; } = shape;
    public Array Data { get; } = data;

    /// <summary>The elements of one row (the product of every dimension after the first).</summary>
    public long RowSize
    {
        get
        {
            long size = 1;
            for (var i = 1; i < Shape.Length; i++)
                size *= Shape[i];
            return size;
        }
    }

    /// <summary>An empty array of an element type's .NET type.</summary>
    public static Array NewData(TensorElementType elementType, long length) => elementType switch
    {
        TensorElementType.Float => new float[length],
        TensorElementType.Int64 => new long[length],
        TensorElementType.String => new string[length],
        _ => throw new NotSupportedException($"element type {elementType}"),
    };
}
