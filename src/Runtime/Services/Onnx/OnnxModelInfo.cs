namespace Serving.Runtime.Services.Onnx;

/// <summary>What a manifest check needs of an ONNX model: its graph's inputs and outputs.</summary>
public sealed class OnnxModelInfo
{
    public long IrVersion { get; init; }
    public IReadOnlyList<OnnxValueInfo> Inputs { get; init; } = Array.Empty<OnnxValueInfo>();
    public IReadOnlyList<OnnxValueInfo> Outputs { get; init; } = Array.Empty<OnnxValueInfo>();
}
