namespace Serving.Runtime.Services.Onnx;

/// <summary>
/// One dimension of a tensor's shape: a fixed size (<see cref="Value"/>), a named symbolic size
/// (<see cref="Param"/>, e.g. "batch"), or neither (unknown). Symbolic and unknown sizes are dynamic.
/// </summary>
public sealed record OnnxDimension(long? Value, string? Param)
{
    /// <summary>A size fixed by the model (a non-negative dim_value); -1 and symbolic sizes are not.</summary>
    public bool IsFixed => Value is >= 0;

    public override string ToString() => Value is >= 0 ? Value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Param is { Length: > 0 } ? Param : "?";
}
