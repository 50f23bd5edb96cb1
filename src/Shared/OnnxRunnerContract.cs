namespace Serving.Shared;

/// <summary>
/// What the supervisor's manifest checks and the worker's ONNX runner both assume of a no-code ONNX
/// runner (<c>Runners = @(@{ Name = 'iris'; Onnx = 'models/iris.onnx' })</c>): one definition, linked into both.
/// </summary>
public static class OnnxRunnerContract
{
    /// <summary>The one method of an ONNX runner: an API names it as <c>Method = 'predict'</c>.</summary>
    public const string Method = "predict";

    /// <summary>The batch a model with a dynamic first axis is called with at most (an API's MaxBatchSize may lower it).</summary>
    public const int MaxBatchSize = 64;

    /// <summary>How long the first queued request of a batch may wait for others, at most (an API's MaxLatencyMs overrides it).</summary>
    public const int MaxLatencyMs = 10;

    /// <summary>The bound of a runner's IntraOpThreads (OnnxRuntime's threads for one operator, per worker).</summary>
    public const int MaxIntraOpThreads = 256;

    /// <summary>The element types served (ONNX TensorProto.DataType numbers): float32 (1), int64 (7), string (8).</summary>
    public static ReadOnlySpan<int> ElementTypes => [1, 7, 8];

    /// <summary>An element type's name as messages show it.</summary>
    public static string ElementTypeName(int elementType) => elementType switch
    {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        _ => $"element type {elementType}",
    };
}
