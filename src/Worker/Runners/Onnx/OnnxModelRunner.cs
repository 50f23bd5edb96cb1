using System.Collections.Frozen;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Serving.Abstractions;
using Serving.Worker.Batching;

namespace Serving.Worker.Runners.Onnx;

/// <summary>
/// A no-code runner (<c>Onnx = 'model.onnx'</c> in the manifest): one OnnxRuntime session per worker and
/// one method, <c>predict</c> (<see cref="OnnxRunnerContract.Method"/>), JSON in and out
/// (<see cref="OnnxJsonCodec"/>). A model whose every input and output has a dynamic first axis is
/// batchable: the dispatcher's requests are stacked along that axis, run once, and split back
/// (<see cref="Predict"/>).
/// </summary>
internal sealed class OnnxModelRunner : Runner
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private OnnxModelRunner(string path, InferenceSession session)
    {
        ModelPath = path;
        _session = session;
        Inputs = [.. session.InputNames.Select(n => OnnxTensorSpec.From(n, session.InputMetadata[n]))];
        Outputs = [.. session.OutputNames.Select(n => OnnxTensorSpec.From(n, session.OutputMetadata[n]))];
        _inputNames = [.. session.InputNames];
        _outputNames = [.. session.OutputNames];
        // The same rule the supervisor's manifest check applies to the file (OnnxRunnerInspector.IsBatchable).
        Batchable = Inputs.All(i => i.HasDynamicFirstAxis) && Outputs.All(o => o.HasDynamicFirstAxis);
    }

    public string ModelPath { get; }
    public IReadOnlyList<OnnxTensorSpec> Inputs { get; }
    public IReadOnlyList<OnnxTensorSpec> Outputs { get; }

    /// <summary>Every input and output has a dynamic first (batch) axis.</summary>
    public bool Batchable { get; }

    /// <summary>Loads the model; a failure is <see cref="ServiceLoadException"/> (exit 3) with OnnxRuntime's message.</summary>
    public static OnnxModelRunner Load(string runnerName, string path, int? intraOpThreads)
    {
        if (!File.Exists(path))
            throw new ServiceLoadException($"runner '{runnerName}': the ONNX model '{path}' does not exist");
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
        try
        {
            if (intraOpThreads is { } threads)
                options.IntraOpNumThreads = threads;
            var session = new InferenceSession(path, options);
            var runner = new OnnxModelRunner(path, session);
            foreach (var spec in runner.Inputs.Concat(runner.Outputs))
            {
                if (spec.ElementType is not (TensorElementType.Float or TensorElementType.Int64 or TensorElementType.String))
                {
                    session.Dispose();
                    throw new ServiceLoadException($"runner '{runnerName}': '{spec.Name}' of the model '{path}' is {spec.TypeName}; an ONNX runner serves float32, int64 and string tensors");
                }
            }
            return runner;
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ServiceLoadException($"runner '{runnerName}': OnnxRuntime cannot load '{path}': {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            // The native library is missing for this platform (OnnxRuntime ships linux, win and osx-arm64 natives).
            throw new ServiceLoadException($"runner '{runnerName}': OnnxRuntime's native library cannot be loaded on this platform " +
                $"({System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}): {ex.Message}", ex);
        }
        finally
        {
            options.Dispose();
        }
    }

    /// <summary>The runner's one method, bound as <see cref="MethodBinder"/> binds a [RunnerMethod]: batchable when the model is.</summary>
    public FrozenDictionary<string, BoundMethod> Bind(string runnerName)
    {
        var method = typeof(OnnxModelRunner).GetMethod(nameof(Predict))!;
        Func<ReadOnlyMemory<byte>, OnnxRequest> decode = input => OnnxJsonCodec.Decode(input, Inputs, Batchable);
        Func<OnnxResponse, ReadOnlyMemory<byte>> encode = output => OnnxJsonCodec.Encode(output, Outputs);
        BoundMethod bound;
        if (Batchable)
        {
            var batch = new BatchMethod<OnnxRequest, OnnxResponse>(runnerName, OnnxRunnerContract.Method, OnnxRunnerContract.MaxBatchSize,
                splitsInstances: false, decode, encode, (items, ct) => new ValueTask<IReadOnlyList<OnnxResponse>?>(Predict(items, ct)));
            bound = new BoundMethod(runnerName, OnnxRunnerContract.Method, method, typeof(OnnxRequest), typeof(OnnxResponse), batch.Invoke, batch.InvokeBatch,
                OnnxRunnerContract.MaxBatchSize, TimeSpan.FromMilliseconds(OnnxRunnerContract.MaxLatencyMs), splitsInstances: false);
        }
        else
        {
            bound = new BoundMethod(runnerName, OnnxRunnerContract.Method, method, typeof(OnnxRequest), typeof(OnnxResponse),
                (input, ct) => new ValueTask<ReadOnlyMemory<byte>>(encode(Predict([decode(input)], ct)[0])));
        }
        return new Dictionary<string, BoundMethod>(StringComparer.OrdinalIgnoreCase) { [OnnxRunnerContract.Method] = bound }
            .ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Runs the model over requests: those whose tensors agree beyond the batch axis are stacked and run
    /// once, their outputs split back by each request's rows. Safe to call concurrently (OnnxRuntime's
    /// Run is); the dispatcher calls it one batch at a time.
    /// </summary>
    public OnnxResponse[] Predict(IReadOnlyList<OnnxRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var responses = new OnnxResponse[requests.Count];
        if (!Batchable)
        {
            for (var i = 0; i < requests.Count; i++)
                responses[i] = new OnnxResponse(Run(requests[i].Inputs, cancellationToken), oneRow: false);
            return responses;
        }
        foreach (var group in Enumerable.Range(0, requests.Count).GroupBy(i => requests[i].StackKey))
        {
            var members = group.ToArray();
            var stacked = new OnnxTensor[Inputs.Count];
            for (var input = 0; input < Inputs.Count; input++)
                stacked[input] = OnnxBatching.Stack(members.Select(m => requests[m].Inputs[input]).ToArray());
            var outputs = Run(stacked, cancellationToken);
            var rows = members.Select(m => requests[m].Rows).ToArray();
            var split = new OnnxTensor[members.Length][];
            for (var m = 0; m < members.Length; m++)
                split[m] = new OnnxTensor[Outputs.Count];
            for (var output = 0; output < Outputs.Count; output++)
            {
                var parts = OnnxBatching.Split(outputs[output], rows, Outputs[output].Name);
                for (var m = 0; m < members.Length; m++)
                    split[m][output] = parts[m];
            }
            for (var m = 0; m < members.Length; m++)
                responses[members[m]] = new OnnxResponse(split[m], requests[members[m]].OneRow);
        }
        return responses;
    }

    private OnnxTensor[] Run(OnnxTensor[] inputs, CancellationToken cancellationToken)
    {
        var values = new List<OrtValue>(inputs.Length);
        using var runOptions = new RunOptions();
        // Cancelled (every request of the batch gave up): OnnxRuntime stops between operators.
        using var registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        try
        {
            foreach (var tensor in inputs)
                values.Add(ToOrtValue(tensor));
            using var results = _session.Run(runOptions, _inputNames, values, _outputNames);
            var outputs = new OnnxTensor[results.Count];
            var i = 0;
            foreach (var result in results)
                outputs[i] = FromOrtValue(result, _outputNames[i++]);
            return outputs;
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    private static OrtValue ToOrtValue(OnnxTensor tensor)
    {
        switch (tensor.Data)
        {
            case float[] f:
                return OrtValue.CreateTensorValueFromMemory(f, tensor.Shape);
            case long[] l:
                return OrtValue.CreateTensorValueFromMemory(l, tensor.Shape);
            default:
                var strings = (string[])tensor.Data;
                var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
                for (var i = 0; i < strings.Length; i++)
                    value.StringTensorSetElementAt(strings[i].AsSpan(), i);
                return value;
        }
    }

    private static OnnxTensor FromOrtValue(OrtValue value, string name)
    {
        if (!value.IsTensor)
            throw new RunnerResultException($"output '{name}' is not a tensor");
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        return info.ElementDataType switch
        {
            TensorElementType.Float => new OnnxTensor(TensorElementType.Float, shape, value.GetTensorDataAsSpan<float>().ToArray()),
            TensorElementType.Int64 => new OnnxTensor(TensorElementType.Int64, shape, value.GetTensorDataAsSpan<long>().ToArray()),
            TensorElementType.String => new OnnxTensor(TensorElementType.String, shape, value.GetStringTensorAsArray()),
            var other => throw new RunnerResultException(string.Create(CultureInfo.InvariantCulture, $"output '{name}' is {other}, which JSON answers do not carry")),
        };
    }

    public override ValueTask DisposeAsync()
    {
        _session.Dispose();
        return base.DisposeAsync();
    }
}
