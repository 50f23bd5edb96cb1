namespace Serving.Runtime.Services.Onnx;

/// <summary>A graph input or output as the model declares it (ValueInfoProto).</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; init; } = "";

    /// <summary>The tensor's element type; <see cref="OnnxElementType.Undefined"/> when it is not a tensor.</summary>
    public OnnxElementType ElementType { get; init; }

    /// <summary>False for a sequence, map or optional value (only tensors are served).</summary>
    public bool IsTensor { get; init; }

    /// <summary>The dimensions; null when the model gives no shape (any rank).</summary>
    public IReadOnlyList<OnnxDimension>? Shape { get; init; }

    /// <summary>"[batch,4]" style, as messages show it.</summary>
    public string ShapeText => Shape is null ? "any shape" : "[" + string.Join(",", Shape) + "]";
}
