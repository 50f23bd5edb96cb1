namespace Serving.Worker.Runners.Onnx;

/// <summary>
/// One request's input tensors, in the model's input order, each with its batch axis: <see cref="Rows"/>
/// rows (1 when the request gave one row without the batch axis: <see cref="OneRow"/>, answered without it too).
/// For a model without a batch axis, <see cref="Rows"/> is 1 and the tensors are the model's shape.
/// </summary>
internal sealed class OnnxRequest(OnnxTensor[] inputs, int rows, bool oneRow)
{
    public OnnxTensor[] Inputs { get; } = inputs;
    public int Rows { get; } = rows;
    public bool OneRow { get; } = oneRow;

    /// <summary>Requests with equal keys stack along the batch axis: every input's shape after the first axis.</summary>
    public string StackKey => string.Join(";", Inputs.Select(t => string.Join(",", t.Shape.Skip(1))));
}
