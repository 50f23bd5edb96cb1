namespace Serving.Worker.Runners.Onnx;

/// <summary>A request's output tensors, in the model's output order (names from <see cref="OnnxModelRunner.Outputs"/>).</summary>
internal sealed class OnnxResponse(OnnxTensor[] outputs, bool oneRow)
{
    public OnnxTensor[] Outputs { get; } = outputs;

    /// <summary>The request gave one row without its batch axis: the answer drops it too.</summary>
    public bool OneRow { get; } = oneRow;
}
