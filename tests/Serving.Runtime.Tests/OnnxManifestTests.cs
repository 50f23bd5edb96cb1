using System.Collections;
using Serving.Runtime.Services.Onnx;
using Serving.Tests.Onnx;
using Xunit;
using M = Serving.Tests.Onnx.OnnxTestModels;

namespace Serving.Runtime.Tests;

/// <summary>The BCL-only ONNX reader (pwsh never loads OnnxRuntime) and the manifest checks of no-code ONNX runners.</summary>
public sealed class OnnxManifestTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "onnx-manifest-" + Guid.NewGuid().ToString("N")[..8]);

    public OnnxManifestTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Reads_the_inputs_and_outputs_of_the_demo_model()
    {
        var model = OnnxModelReader.Read(OnnxTestModels.DemoModel);

        Assert.Equal(8, model.IrVersion);
        var input = Assert.Single(model.Inputs);
        Assert.Equal("features", input.Name);
        Assert.Equal(OnnxElementType.Float, input.ElementType);
        Assert.Equal("[batch,4]", input.ShapeText);
        Assert.Equal(new[] { "probabilities", "label" }, model.Outputs.Select(o => o.Name));
        Assert.Equal(OnnxElementType.Int64, model.Outputs[1].ElementType);
        Assert.Equal("[batch]", model.Outputs[1].ShapeText);
        Assert.True(OnnxRunnerInspector.IsBatchable(model));
    }

    [Fact]
    public void Reads_negative_and_missing_dimensions_and_leaves_out_initializers_listed_as_inputs()
    {
        var path = Write("m.onnx", M.Model(
            [new("x", M.Int64, [-1, 3]), new("w", M.Float, [1]), new("s", M.String, null)],
            [new("y", M.Int64, [-1, 3])], [new("Identity", ["x"], ["y"])], irVersion: 3, initializers: ["w"]));

        var model = OnnxModelReader.Read(path);

        Assert.Equal(new[] { "x", "s" }, model.Inputs.Select(i => i.Name));
        Assert.Equal(-1, model.Inputs[0].Shape![0].Value);
        Assert.False(model.Inputs[0].Shape![0].IsFixed);
        Assert.True(model.Inputs[0].Shape![1].IsFixed);
        Assert.Null(model.Inputs[1].Shape);
        // No shape: the batch axis is unknown, so the model is not batched.
        Assert.False(OnnxRunnerInspector.IsBatchable(model));
    }

    [Fact]
    public void A_truncated_model_is_refused_as_truncated()
    {
        var bytes = File.ReadAllBytes(OnnxTestModels.DemoModel);
        var path = Write("cut.onnx", bytes[..(bytes.Length - 40)]);

        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(path));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text", "# not a model\nhello\n")]
    [InlineData("json", "{\"features\": [1, 2, 3]}")]
    [InlineData("empty", "")]
    public void A_file_that_is_not_a_model_is_refused(string why, string content)
    {
        var path = Write(why + ".onnx", System.Text.Encoding.UTF8.GetBytes(content));
        Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(path));
    }

    [Fact]
    public void A_protobuf_without_a_graph_is_not_a_model()
    {
        // ir_version alone: valid protobuf, no graph.
        var path = Write("nograph.onnx", [0x08, 0x08]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(path));
        Assert.Contains("no graph", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_field_longer_than_its_message_is_malformed_not_truncated()
    {
        // ir_version 8; graph of 4 bytes whose input claims 10: the file has them, the graph does not.
        byte[] bytes = [0x08, 0x08, 0x3A, 0x04, 0x5A, 0x0A, 0x00, 0x00, .. new byte[12]];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(new MemoryStream(bytes)));
        Assert.Contains("runs past the end of its message", e.Message, StringComparison.Ordinal);
    }

    private Hashtable Manifest(Hashtable runner, Hashtable? api = null) => new()
    {
        ["Name"] = "onnx",
        ["Runners"] = new object[] { runner },
        ["Apis"] = new object[] { api ?? new Hashtable { ["Route"] = "/predict", ["Runner"] = "iris", ["Method"] = "predict" } },
    };

    private string ManifestPath => Path.Combine(_dir, "service.psd1");

    [Fact]
    public void An_onnx_runner_needs_no_assemblies_and_its_path_is_relative_to_the_manifest()
    {
        Write("models/iris.onnx", File.ReadAllBytes(OnnxTestModels.DemoModel));
        var d = ServiceManifest.Parse(Manifest(new Hashtable { ["Name"] = "iris", ["Onnx"] = "models/iris.onnx", ["Workers"] = 2, ["IntraOpThreads"] = 1 }), ManifestPath);

        var runner = Assert.Single(d.Runners);
        Assert.True(runner.IsOnnx);
        Assert.Equal("", runner.Type);
        Assert.Equal(Path.Combine(_dir, "models", "iris.onnx"), runner.Onnx);
        Assert.Equal(1, runner.IntraOpThreads);
        Assert.Equal(2, runner.Workers);
        Assert.Empty(d.Assemblies);
        Assert.False(runner.Batchable, "not verified yet");
        Assert.True(ServiceAssemblyInspector.Verify(d).Runners.Single().Batchable, "the iris model's first axis is open");
    }

    public static TheoryData<string, Hashtable, string> BrokenRunners => new()
    {
        { "both", new Hashtable { ["Name"] = "iris", ["Type"] = "My.Runner", ["Onnx"] = "m.onnx" }, "sets both Type and Onnx" },
        { "neither", new Hashtable { ["Name"] = "iris" }, "needs Type (a runner class" },
        { "threads on a type", new Hashtable { ["Name"] = "iris", ["Type"] = "My.Runner" }, "IntraOpThreads applies to ONNX runners only" },
        { "zero threads", new Hashtable { ["Name"] = "iris", ["Onnx"] = "m.onnx", ["IntraOpThreads"] = 0 }, "IntraOpThreads must be an integer from 1 to 256" },
        { "empty path", new Hashtable { ["Name"] = "iris", ["Onnx"] = " " }, "needs a non-empty Onnx" },
    };

    [Theory]
    [MemberData(nameof(BrokenRunners))]
    public void A_broken_onnx_runner_is_InvalidServiceManifest(string why, Hashtable runner, string text)
    {
        if (why == "threads on a type")
            runner["IntraOpThreads"] = 2;
        var m = Manifest(runner);
        if (why == "threads on a type")
            m["Assemblies"] = new object[] { "bin/My.dll" };
        var e = Assert.Throws<ServingException>(() => ServiceManifest.Parse(m, ManifestPath));
        Assert.Equal(ErrorIds.InvalidServiceManifest, e.ErrorId);
        Assert.True(e.Message.Contains(text, StringComparison.Ordinal), $"{why}: '{e.Message}' should contain '{text}'");
    }

    [Fact]
    public void A_type_runner_still_needs_assemblies()
    {
        var e = Assert.Throws<ServingException>(() => ServiceManifest.Parse(Manifest(new Hashtable { ["Name"] = "iris", ["Type"] = "My.Runner" }), ManifestPath));
        Assert.Equal(ErrorIds.InvalidServiceManifest, e.ErrorId);
        Assert.Contains("needs Assemblies", e.Message, StringComparison.Ordinal);
    }

    private ServingException Refused(byte[]? model, string method = "predict", int? maxBatchSize = null, PayloadKind input = PayloadKind.Json)
    {
        var path = Path.Combine(_dir, "model.onnx");
        if (model is not null)
            File.WriteAllBytes(path, model);
        var service = new ServiceDefinition
        {
            Name = "onnx",
            ManifestPath = ManifestPath,
            Directory = _dir,
            Runners = [new RunnerDefinition { Name = "iris", Onnx = path }],
            Apis = [new ApiDefinition { Route = "/p", Runner = "iris", Method = method, MaxBatchSize = maxBatchSize, Input = input }],
        };
        var e = Assert.Throws<ServingException>(() => ServiceAssemblyInspector.Verify(service));
        Assert.Equal(ErrorIds.InvalidServiceManifest, e.ErrorId);
        Assert.Contains(ManifestPath, e.Message, StringComparison.Ordinal);
        return e;
    }

    private static byte[] FloatModel(object first) => M.Identity((new M.Value("x", M.Float, [first, 4]), "y"));

    [Fact]
    public void A_missing_model_file_is_refused_before_anything_starts() =>
        Assert.Contains("does not exist. Fix the path in Onnx", Refused(null).Message, StringComparison.Ordinal);

    [Fact]
    public void A_file_that_is_not_a_model_is_refused_before_anything_starts() =>
        Assert.Contains("is not an ONNX model", Refused("not a model at all"u8.ToArray()).Message, StringComparison.Ordinal);

    [Fact]
    public void A_truncated_model_is_refused_before_anything_starts()
    {
        var bytes = File.ReadAllBytes(OnnxTestModels.DemoModel);
        Assert.Contains("truncated", Refused(bytes[..^40]).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_float64_input_is_refused_naming_the_types_served()
    {
        var e = Refused(M.Identity((new M.Value("x", M.Double, ["batch", 4]), "y")));
        Assert.Contains("input 'x' has element type float64", e.Message, StringComparison.Ordinal);
        Assert.Contains("float32, int64 and string", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_method_other_than_predict_is_refused() =>
        Assert.Contains("use Method = 'predict'", Refused(FloatModel("batch"), method: "classify").Message, StringComparison.Ordinal);

    [Fact]
    public void Bytes_input_is_refused() =>
        Assert.Contains("takes and returns JSON", Refused(FloatModel("batch"), input: PayloadKind.Bytes).Message, StringComparison.Ordinal);

    [Fact]
    public void A_batching_override_needs_a_dynamic_first_axis()
    {
        Assert.Contains("no dynamic first (batch) axis", Refused(FloatModel(1), maxBatchSize: 8).Message, StringComparison.Ordinal);

        // -1 and a symbolic name are both dynamic: the override is accepted.
        foreach (var first in new object[] { -1, "n" })
        {
            var path = Write($"ok-{first}.onnx", FloatModel(first));
            ServiceAssemblyInspector.Verify(new ServiceDefinition
            {
                Name = "onnx", ManifestPath = ManifestPath, Directory = _dir,
                Runners = [new RunnerDefinition { Name = "iris", Onnx = path }],
                Apis = [new ApiDefinition { Route = "/p", Runner = "iris", Method = "PREDICT", MaxBatchSize = 8 }],
            });
        }
    }
}
