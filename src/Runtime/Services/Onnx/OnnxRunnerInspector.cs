namespace Serving.Runtime.Services.Onnx;

/// <summary>
/// Checks a no-code ONNX runner before any process starts: its model file exists and is an ONNX model,
/// its graph's inputs and outputs are tensors of a served element type, and the APIs over it call
/// <c>predict</c> with JSON. Reads the file with <see cref="OnnxModelReader"/>: OnnxRuntime never loads into pwsh.
/// </summary>
public static class OnnxRunnerInspector
{
    /// <summary>Throws <see cref="ServingException"/> (<see cref="ErrorIds.InvalidServiceManifest"/>) with what to fix.</summary>
    public static OnnxModelInfo Verify(ServiceDefinition service, RunnerDefinition runner)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(runner);
        var where = $"{service.ManifestPath}: runner '{runner.Name}'";
        if (!File.Exists(runner.Onnx))
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.ObjectNotFound,
                $"{where}: the ONNX model '{runner.Onnx}' does not exist. Fix the path in Onnx (it is relative to the manifest).", runner.Onnx);

        OnnxModelInfo model;
        try
        {
            model = OnnxModelReader.Read(runner.Onnx);
        }
        catch (OnnxFormatException e)
        {
            throw Bad($"{where}: '{runner.Onnx}' is not an ONNX model ({e.Message}). Onnx must name a .onnx file exported from a training framework.", runner.Onnx, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                $"{where}: cannot read the ONNX model '{runner.Onnx}': {e.Message}", runner.Onnx, e);
        }

        if (model.Inputs.Count == 0)
            throw Bad($"{where}: the model '{runner.Onnx}' has no graph inputs: there is nothing a request could give it.", runner.Onnx);
        if (model.Outputs.Count == 0)
            throw Bad($"{where}: the model '{runner.Onnx}' has no graph outputs.", runner.Onnx);
        CheckValues(model.Inputs, "input", where, runner.Onnx);
        CheckValues(model.Outputs, "output", where, runner.Onnx);

        var batchable = IsBatchable(model);
        foreach (var api in service.Apis)
        {
            if (api.Runner != runner.Name) continue;
            var apiWhere = $"{service.ManifestPath}: API '{api.Route}'";
            if (!string.Equals(api.Method, OnnxRunnerContract.Method, StringComparison.OrdinalIgnoreCase))
                throw Bad($"{apiWhere} calls method '{api.Method}' of the ONNX runner '{runner.Name}', which has one method: use Method = '{OnnxRunnerContract.Method}'.", api.Method);
            if (api.Input != PayloadKind.Json || api.Output != PayloadKind.Json)
                throw Bad($"{apiWhere}: an ONNX runner takes and returns JSON; remove Input and Output or set them to 'Json'.", api.Route);
            if (!batchable && (api.MaxBatchSize is not null || api.MaxLatencyMs is not null))
                throw Bad($"{apiWhere} sets {(api.MaxBatchSize is not null ? "MaxBatchSize" : "MaxLatencyMs")}, but the model '{runner.Onnx}' has no dynamic " +
                    $"first (batch) axis on every input and output, so its requests are not batched. Remove the key.", api.Route);
        }
        return model;
    }

    /// <summary>
    /// Whether requests are batched: every input and every output has a first axis the model leaves open
    /// (symbolic, -1 or unknown), the axis items are stacked along. The worker decides the same way from
    /// OnnxRuntime's metadata.
    /// </summary>
    public static bool IsBatchable(OnnxModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var value in model.Inputs)
            if (value.Shape is not { Count: > 0 } shape || shape[0].IsFixed) return false;
        foreach (var value in model.Outputs)
            if (value.Shape is { } shape && (shape.Count == 0 || shape[0].IsFixed)) return false;
        return true;
    }

    private static void CheckValues(IReadOnlyList<OnnxValueInfo> values, string what, string where, string path)
    {
        foreach (var value in values)
        {
            if (!value.IsTensor)
                throw Bad($"{where}: the model's {what} '{value.Name}' is not a tensor (a sequence, map or optional value); only tensors are served.", path);
            var supported = false;
            foreach (var type in OnnxRunnerContract.ElementTypes)
                supported |= type == (int)value.ElementType;
            if (!supported)
                throw Bad($"{where}: the model's {what} '{value.Name}' has element type {OnnxRunnerContract.ElementTypeName((int)value.ElementType)}; " +
                    "an ONNX runner serves float32, int64 and string tensors only. Export the model with those types (e.g. cast float64 to float32 in the graph).", path);
        }
    }

    private static ServingException Bad(string message, object target, Exception? inner = null) =>
        new(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData, message, target, inner);
}
