using System.Globalization;
using System.Text;
using System.Text.Json;
using Serving.Abstractions;
using Serving.Demo;
using Serving.Tests.Onnx;
using Serving.Worker.Batching;
using Serving.Worker.Runners;
using Serving.Worker.Runners.Onnx;
using M = Serving.Tests.Onnx.OnnxTestModels;

namespace Serving.Worker.Tests;

/// <summary>
/// The no-code ONNX runner in-process: the demo model against the compiled demo classifier on all of
/// data/iris.csv, JSON ↔ tensors (float32, int64, string; shapes; names), and the batch path's stacking and splitting.
/// </summary>
public sealed class OnnxRunnerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "onnx-runner-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<OnnxModelRunner> _runners = [];

    public OnnxRunnerTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        foreach (var runner in _runners)
            runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }

    private BoundMethod Load(string path, out OnnxModelRunner runner)
    {
        runner = OnnxModelRunner.Load("test", path, intraOpThreads: 1);
        _runners.Add(runner);
        return runner.Bind("test")[OnnxRunnerContract.Method];
    }

    private BoundMethod Load(byte[] model)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + ".onnx");
        File.WriteAllBytes(path, model);
        return Load(path, out _);
    }

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static async Task<string> Call(BoundMethod method, string body) => Encoding.UTF8.GetString((await method.Invoke(Utf8(body), default)).Span);

    private static async Task<string> Refused(BoundMethod method, string body) =>
        (await Assert.ThrowsAsync<RunnerInputException>(async () => await method.Invoke(Utf8(body), default))).Message;

    private static List<(double[] Features, string Species)> IrisRows()
    {
        var rows = new List<(double[], string)>();
        foreach (var line in File.ReadLines(Path.Combine(M.RepoRoot(), "data", "iris.csv")).Skip(1))
        {
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            rows.Add((cells[..4].Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray(), cells[4]));
        }
        return rows;
    }

    [Fact]
    public async Task The_demo_model_answers_as_the_compiled_classifier_on_all_150_rows_one_by_one_and_batched()
    {
        var method = Load(M.DemoModel, out var runner);
        Assert.True(runner.Batchable);
        Assert.True(method.Batchable);
        Assert.Equal(64, method.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(10), method.MaxLatency);
        var rows = IrisRows();
        Assert.Equal(150, rows.Count);

        // All 150 through the dispatcher's path: stacked into one [150,4] tensor, run once, split back.
        var inputs = rows.Select(r => Utf8(JsonSerializer.Serialize(new { features = r.Features }))).ToArray();
        var results = new ItemResult[inputs.Length];
        Assert.Equal(1, await method.InvokeBatch!(inputs, results, default));

        var expected = new double[IrisModel.ClassCount];
        for (var i = 0; i < rows.Count; i++)
        {
            var label = IrisModel.Predict(rows[i].Features, expected);
            foreach (var answer in new[] { Encoding.UTF8.GetString(results[i].Output.Span), await Call(method, $"[{string.Join(",", rows[i].Features.Select(f => f.ToString(CultureInfo.InvariantCulture)))}]") })
            {
                using var json = JsonDocument.Parse(answer);
                Assert.Equal(label, json.RootElement.GetProperty("label").GetInt64());
                var probabilities = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(p => p.GetDouble()).ToArray();
                Assert.Equal(IrisModel.ClassCount, probabilities.Length);
                for (var k = 0; k < probabilities.Length; k++)
                    Assert.True(Math.Abs(probabilities[k] - expected[k]) <= 1e-5, $"row {i} class {k}: {probabilities[k]} vs {expected[k]}");
            }
        }
    }

    [Fact]
    public async Task Rows_keep_their_batch_axis_and_one_row_drops_it()
    {
        var method = Load(M.DemoModel, out _);
        using var rows = JsonDocument.Parse(await Call(method, """{"features":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}"""));
        Assert.Equal(2, rows.RootElement.GetProperty("label").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, rows.RootElement.GetProperty("probabilities")[1].ValueKind);
        Assert.Equal(2, rows.RootElement.GetProperty("label")[1].GetInt64());

        using var one = JsonDocument.Parse(await Call(method, """{"features":[5.1,3.5,1.4,0.2]}"""));
        Assert.Equal(0, one.RootElement.GetProperty("label").GetInt64());
        Assert.Equal(3, one.RootElement.GetProperty("probabilities").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"features":[5.1,3.5,1.4]}""", "input 'features' must have shape [batch,4] (or [4] for one row); got [3]")]
    [InlineData("""{"features":[[[5.1,3.5,1.4,0.2]]]}""", "must have shape [batch,4] (or [4] for one row); got [1,1,4]")]
    [InlineData("""{"features":[[5.1,3.5,1.4,0.2],[1,2,3]]}""", "input 'features' is not a rectangular array: $.features[1] should be an array of 4")]
    [InlineData("""{"features":[5.1,"3.5",1.4,0.2]}""", "input 'features' holds float32 elements: $.features[1] should be a float32 number, not a string")]
    [InlineData("""{"features":[5.1,1e39,1.4,0.2]}""", "$.features[1] should be a float32 number, not the number 1e39")]
    [InlineData("""{"features":[]}""", "must have shape [batch,4]")]
    [InlineData("""{"feature":[5.1,3.5,1.4,0.2]}""", "the model has no input 'feature'; its inputs are 'features' ([batch,4] float32)")]
    [InlineData("""{}""", "input 'features' is missing; the model's inputs are 'features' ([batch,4] float32)")]
    public async Task Input_that_does_not_fit_is_refused_naming_the_input_and_the_expected_shape(string body, string message)
    {
        var method = Load(M.DemoModel, out _);
        var text = await Refused(method, body);
        Assert.True(text.Contains(message, StringComparison.Ordinal), $"'{text}' should contain '{message}'");
    }

    [Fact]
    public async Task Malformed_json_is_a_syntax_error()
    {
        var method = Load(M.DemoModel, out _);
        await Assert.ThrowsAsync<RunnerJsonSyntaxException>(async () => await method.Invoke(Utf8("{\"features\":[1,"), default));
    }

    [Fact]
    public async Task A_bad_item_in_a_batch_fails_alone()
    {
        var method = Load(M.DemoModel, out _);
        var results = new ItemResult[3];
        await method.InvokeBatch!(new[] { Utf8("[5.1,3.5,1.4,0.2]"), Utf8("[1,2]"), Utf8("""{"features":[[6.7,3.0,5.2,2.3],[5.1,3.5,1.4,0.2]]}""") }, results, default);

        Assert.Equal(ItemStatus.Ok, results[0].Status);
        Assert.Equal(ItemStatus.InvalidInput, results[1].Status);
        Assert.Contains("must have shape [batch,4]", results[1].Message, StringComparison.Ordinal);
        Assert.Equal(ItemStatus.Ok, results[2].Status);
        // Split back by rows: the first item's one row without its axis, the third's two rows with it.
        using var first = JsonDocument.Parse(results[0].Output);
        Assert.Equal(0, first.RootElement.GetProperty("label").GetInt64());
        using var third = JsonDocument.Parse(results[2].Output);
        Assert.Equal(new long[] { 2, 0 }, third.RootElement.GetProperty("label").EnumerateArray().Select(l => l.GetInt64()));
    }

    [Fact]
    public async Task Int64_and_string_tensors_round_trip_and_two_inputs_are_named()
    {
        var method = Load(M.Identity((new M.Value("ids", M.Int64, ["batch", 2]), "ids_out"), (new M.Value("words", M.String, ["batch"]), "words_out")));
        Assert.True(method.Batchable);

        var answer = await Call(method, """{"ids":[[9007199254740993,-2],[3,4]],"words":["ünï","b"]}""");
        Assert.Equal("""{"ids_out":[[9007199254740993,-2],[3,4]],"words_out":["ünï","b"]}""", answer.Replace("\\u00FC", "ü", StringComparison.Ordinal).Replace("\\u00EF", "ï", StringComparison.Ordinal));

        var results = new ItemResult[2];
        Assert.Equal(1, await method.InvokeBatch!(new[] { Utf8("""{"ids":[1,2],"words":"a"}"""), Utf8("""{"ids":[[5,6],[7,8]],"words":["x","y"]}""") }, results, default));
        Assert.Equal("""{"ids_out":[1,2],"words_out":"a"}""", Encoding.UTF8.GetString(results[0].Output.Span));
        Assert.Equal("""{"ids_out":[[5,6],[7,8]],"words_out":["x","y"]}""", Encoding.UTF8.GetString(results[1].Output.Span));

        Assert.Contains("should be an integer (int64), not the number 1.5", await Refused(method, """{"ids":[1.5,2],"words":"a"}"""), StringComparison.Ordinal);
        Assert.Contains("should be a string, not the number 3", await Refused(method, """{"ids":[1,2],"words":3}"""), StringComparison.Ordinal);
        Assert.Contains("every input needs the same rows", await Refused(method, """{"ids":[[1,2]],"words":["a","b"]}"""), StringComparison.Ordinal);
        Assert.Contains("send an object naming each, 'ids' ([batch,2] int64), 'words' ([batch] string)", await Refused(method, "[1,2]"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_without_a_batch_axis_takes_its_exact_shape_and_is_not_batched()
    {
        var method = Load(M.Identity((new M.Value("x", M.Float, [2, 2]), "y")));
        Assert.False(method.Batchable);
        Assert.Equal("""{"y":[[1,2.5],[3,4]]}""", await Call(method, "[[1,2.5],[3,4]]"));
        Assert.Equal("input 'x' must have shape [2,2]; got [2]", await Refused(method, "[1,2]"));
    }

    [Fact]
    public async Task A_scalar_input_is_a_bare_json_value()
    {
        var method = Load(M.Identity((new M.Value("x", M.Float, []), "y")));
        Assert.Equal("""{"y":2.5}""", await Call(method, "2.5"));
    }

    [Fact]
    public async Task Requests_that_differ_beyond_the_batch_axis_run_in_separate_groups()
    {
        var method = Load(M.Identity((new M.Value("x", M.Float, ["batch", "len"]), "y")));
        var results = new ItemResult[3];
        Assert.Equal(1, await method.InvokeBatch!(new[] { Utf8("[1,2]"), Utf8("[1,2,3]"), Utf8("[[4,5]]") }, results, default));
        Assert.Equal("""{"y":[1,2]}""", Encoding.UTF8.GetString(results[0].Output.Span));
        Assert.Equal("""{"y":[1,2,3]}""", Encoding.UTF8.GetString(results[1].Output.Span));
        Assert.Equal("""{"y":[[4,5]]}""", Encoding.UTF8.GetString(results[2].Output.Span));
    }

    [Fact]
    public void Stacking_and_splitting_keep_rows_in_order()
    {
        var a = new OnnxTensor(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [1, 2], new float[] { 1, 2 });
        var b = new OnnxTensor(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [2, 2], new float[] { 3, 4, 5, 6 });
        var stacked = OnnxBatching.Stack([a, b]);
        Assert.Equal(new long[] { 3, 2 }, stacked.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, (float[])stacked.Data);

        var parts = OnnxBatching.Split(stacked, [1, 2], "y");
        Assert.Equal(new float[] { 1, 2 }, (float[])parts[0].Data);
        Assert.Equal(new long[] { 2, 2 }, parts[1].Shape);
        Assert.Equal(new float[] { 3, 4, 5, 6 }, (float[])parts[1].Data);
        Assert.Throws<RunnerResultException>(() => OnnxBatching.Split(stacked, [1, 1], "y"));
    }

    [Fact]
    public void A_file_that_is_not_a_model_fails_the_load_with_a_clear_message()
    {
        var path = Path.Combine(_dir, "bad.onnx");
        File.WriteAllText(path, "not a model");
        var e = Assert.Throws<ServiceLoadException>(() => OnnxModelRunner.Load("bad", path, null));
        Assert.Contains("runner 'bad': OnnxRuntime cannot load", e.Message, StringComparison.Ordinal);
    }
}
