using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Serving.Abstractions;
using Serving.Worker.Batching;
using Serving.Worker.Runners;

namespace Serving.Demo.Tests;

public sealed class RunnerTests
{
    private readonly IrisClassifierRunner _runner = new();
    private readonly BoundMethod _classify;

    public RunnerTests() => _classify = MethodBinder.BindAll(_runner, "classifier")["classify"];

    /// <summary>What a runner worker does with a request body: decode, call, encode (through the binder).</summary>
    private async Task<string> CallText(string requestJson) =>
        Encoding.UTF8.GetString((await _classify.Invoke(Encoding.UTF8.GetBytes(requestJson), default)).Span);

    private async Task<JsonElement> Call(string requestJson)
    {
        using var doc = JsonDocument.Parse(await CallText(requestJson));
        return doc.RootElement.Clone();
    }

    private static string Row(double[] features) =>
        "[" + string.Join(',', features.Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private static void AssertPrediction(JsonElement prediction, string label)
    {
        Assert.Equal(JsonValueKind.Object, prediction.ValueKind);
        Assert.Equal(["label", "probabilities"], prediction.EnumerateObject().Select(p => p.Name));
        Assert.Equal(label, prediction.GetProperty("label").GetString());
        var probabilities = prediction.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(3, probabilities.Length);
        Assert.Equal(1.0, probabilities.Sum(), 1e-12);
        Assert.Equal(Array.IndexOf(["setosa", "versicolor", "virginica"], label),
            Array.IndexOf(probabilities, probabilities.Max()));
    }

    [Fact]
    public async Task Features_request_returns_one_prediction_object()
    {
        AssertPrediction(await Call("""{"features":[5.1,3.5,1.4,0.2]}"""), "setosa");
    }

    [Fact]
    public async Task Four_numbers_alone_are_a_request_too()
    {
        Assert.Equal(await CallText("""{"features":[6.3,3.3,6.0,2.5]}"""), await CallText("[6.3,3.3,6.0,2.5]"));
    }

    [Fact]
    public async Task Instances_request_returns_an_array_in_request_order()
    {
        JsonElement response = await Call("""{"instances":[[6.3,3.3,6.0,2.5],[5.1,3.5,1.4,0.2],{"features":[7.0,3.2,4.7,1.4]}]}""");

        Assert.Equal(JsonValueKind.Array, response.ValueKind);
        Assert.Equal(3, response.GetArrayLength());
        AssertPrediction(response[0], "virginica");
        AssertPrediction(response[1], "setosa");
        AssertPrediction(response[2], "versicolor");
    }

    [Fact]
    public async Task Single_instance_is_still_an_array()
    {
        JsonElement response = await Call("""{"instances":[[5.1,3.5,1.4,0.2]]}""");
        Assert.Equal(JsonValueKind.Array, response.ValueKind);
        AssertPrediction(response[0], "setosa");
    }

    [Fact]
    public async Task Property_names_are_case_insensitive_and_unknown_ones_ignored()
    {
        AssertPrediction(await Call("""{"Features":[5.1,3.5,1.4,0.2],"id":7,"tags":{"a":[1,{}]}}"""), "setosa");
    }

    [Fact]
    public void Classify_is_batchable()
    {
        Assert.True(_classify.Batchable);
        Assert.Equal(64, _classify.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(10), _classify.MaxLatency);
        Assert.True(_classify.SplitsInstances);
    }

    [Fact]
    public void Response_probabilities_match_the_model()
    {
        var response = _runner.Classify([new IrisRequest { Features = [6.3, 3.3, 6.0, 2.5] }]);
        var expected = new double[3];
        int label = IrisModel.Predict([6.3, 3.3, 6.0, 2.5], expected);

        var prediction = Assert.Single(response);
        Assert.Equal(IrisModel.Labels[label], prediction.Label);
        Assert.Equal(expected, prediction.Probabilities);
    }

    [Fact]
    public void A_batch_gives_every_row_exactly_what_it_gets_alone()
    {
        // All 150 rows of data/iris.csv in one call, compared bit for bit with one call per row.
        var rows = RepoData.Iris.Features;
        var batch = _runner.Classify([.. rows.Select(r => new IrisRequest { Features = r })]);
        Assert.Equal(rows.Length, batch.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var alone = Assert.Single(_runner.Classify([new IrisRequest { Features = rows[i] }]));
            var expected = new double[IrisModel.ClassCount];
            int label = IrisModel.Predict(rows[i], expected);
            Assert.Equal(IrisModel.Labels[label], batch[i].Label);
            Assert.Equal(alone.Label, batch[i].Label);
            Assert.Equal(expected, batch[i].Probabilities);
            Assert.Equal(alone.Probabilities, batch[i].Probabilities);
        }
    }

    [Fact]
    public async Task An_instances_request_answers_each_row_as_a_request_of_its_own_would()
    {
        var rows = RepoData.Iris.Features;
        var batch = await Call("{\"instances\":[" + string.Join(',', rows.Select(Row)) + "]}");
        Assert.Equal(rows.Length, batch.GetArrayLength());
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(await CallText("{\"features\":" + Row(rows[i]) + "}"), batch[i].GetRawText());
        }
    }

    [Fact]
    public void Huge_rows_in_a_batch_match_their_single_predictions()
    {
        double[][] rows = [[1e308, 1e308, 1e308, 1e308], [5.1, 3.5, 1.4, 0.2], [-1e308, 0, 0, 1e308], [1e151, 1, 1, 1], [1e150, 1, 1, 1], [6.3, 3.3, 6.0, 2.5]];
        var batch = _runner.Classify([.. rows.Select(r => new IrisRequest { Features = r })]);
        for (int i = 0; i < rows.Length; i++)
        {
            var expected = new double[IrisModel.ClassCount];
            int label = IrisModel.Predict(rows[i], expected);
            Assert.Equal(IrisModel.Labels[label], batch[i].Label);
            Assert.Equal(expected, batch[i].Probabilities);
        }
    }

    [Fact]
    public void Requests_and_predictions_round_trip_through_the_source_generated_metadata()
    {
        var options = _runner.JsonOptions;
        var request = JsonSerializer.Deserialize<IrisRequest>(JsonSerializer.Serialize(new IrisRequest { Features = [5.1, 3.5, 1.4, 0.2] }, options), options)!;
        Assert.Equal([5.1, 3.5, 1.4, 0.2], request.Features!);

        var prediction = _runner.Classify([request])[0];
        var back = JsonSerializer.Deserialize<IrisPrediction[]>(JsonSerializer.Serialize(new[] { prediction }, options), options)!;
        Assert.Equal("setosa", Assert.Single(back).Label);
        Assert.Equal(prediction.Probabilities, back[0].Probabilities);
    }

    [Theory]
    [InlineData("""{"features":[1e308,1e308,1e308,1e308]}""")]
    [InlineData("""{"features":[-1e308,-1e308,-1e308,-1e308]}""")]
    [InlineData("""{"features":[1e308,-1e308,1e308,-1e308]}""")]
    [InlineData("""{"features":[1.7976931348623157e308,0,0,-1.7976931348623157e308]}""")]
    [InlineData("""{"features":[5e-324,-5e-324,1e-308,0]}""")]
    [InlineData("""{"features":[-5.1,-3.5,-1.4,-0.2]}""")]
    [InlineData("""{"instances":[[1e308,1e308,1e308,1e308],[5.1,3.5,1.4,0.2],[-1e308,0,0,1e308]]}""")]
    public async Task Extreme_finite_inputs_are_answered_with_finite_json(string requestJson)
    {
        JsonElement response = await Call(requestJson);
        var predictions = response.ValueKind == JsonValueKind.Array ? response.EnumerateArray().ToArray() : [response];
        foreach (var prediction in predictions)
        {
            var probabilities = prediction.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.All(probabilities, p => Assert.True(double.IsFinite(p) && p >= 0 && p <= 1, p.ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(1.0, probabilities.Sum(), 1e-12);
            Assert.Contains(prediction.GetProperty("label").GetString(), IrisModel.Labels);
        }
    }

    [Fact]
    public void Json_options_are_source_generated()
    {
        Assert.Same(IrisJsonContext.Default, _runner.JsonOptions.TypeInfoResolver);
    }

    [Theory]
    [InlineData("null", "invalid input in $: expected an object with 'features' (4 numbers) or an array of 4 numbers, got null")]
    [InlineData("\"x\"", "invalid input in $: expected an object with 'features' (4 numbers) or an array of 4 numbers, got a string")]
    [InlineData("{}", "invalid input in $: missing 'features' (4 numbers: sepal_length, sepal_width, petal_length, petal_width)")]
    [InlineData("""{"feature":[5.1,3.5,1.4,0.2]}""", "invalid input in $: missing 'features'")]
    [InlineData("""{"features":null}""", "invalid input in $: missing 'features'")]
    [InlineData("""{"features":{}}""", "invalid input in $.features: expected an array of numbers, got an object")]
    [InlineData("""{"features":[]}""", "invalid input in $.features: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 0")]
    [InlineData("""{"features":[5.1,3.5,1.4]}""", "invalid input in $.features: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 3")]
    [InlineData("""{"features":[5.1,3.5,1.4,0.2,0.1]}""", "invalid input in $.features: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 5")]
    [InlineData("""{"features":[5.1,3.5,1.4,1e999]}""", "invalid input in $.features[3]: expected a number, got 1e999 (out of range)")]
    [InlineData("""{"features":[-1e999,3.5,1.4,0.2]}""", "invalid input in $.features[0]: expected a number, got -1e999 (out of range)")]
    [InlineData("""{"features":[true,3.5,1.4,0.2]}""", "invalid input in $.features[0]: expected a number, got true")]
    [InlineData("""{"features":[[1],3.5,1.4,0.2]}""", "invalid input in $.features[0]: expected a number, got an array")]
    [InlineData("[]", "invalid input in $: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 0")]
    [InlineData("""[1,2,"3",4]""", "invalid input in $[2]: expected a number, got a string")]
    [InlineData("""{"features":[5.1,3.5,1.4,0.2],"instances":[[5.1,3.5,1.4,0.2]]}""", "invalid input in $: give either 'features' or 'instances', not both")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2]],"id":1}""", "invalid input in $: 'instances' must be the only member of a request")]
    [InlineData("""{"instances":7}""", "invalid input in $.instances: expected an array of rows")]
    [InlineData("""{"instances":[]}""", "invalid input in $.instances: expected one instance or more, got an empty array")]
    [InlineData("""{"instances":[null]}""", "invalid input in $.instances[0]: expected an object with 'features' (4 numbers) or an array of 4 numbers, got null")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2],[5.1,3.5,1.4]]}""", "invalid input in $.instances[1]: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 3")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2],[5.1,3.5,1.4,1e999]]}""", "invalid input in $.instances[1][3]: expected a number, got 1e999 (out of range)")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2],{"features":[1,2]}]}""", "invalid input in $.instances[1].features: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 2")]
    public async Task Bad_input_is_a_RunnerInputException_naming_the_path(string requestJson, string message)
    {
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => CallText(requestJson));
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public async Task A_long_number_is_quoted_shortened()
    {
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => CallText("{\"features\":[1" + new string('0', 400) + ",1,1,1]}"));
        Assert.Equal("invalid input in $.features[0]: expected a number, got 1" + new string('0', 31) + "… (out of range)", ex.Message);
    }

    public static TheoryData<double> NonFinite => new() { double.NaN, double.PositiveInfinity, double.NegativeInfinity };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Non_finite_features_built_in_code_throw_RunnerInputException(double value)
    {
        // JSON cannot carry them; a caller in code can.
        var ex = Assert.Throws<RunnerInputException>(() => _runner.Classify([new IrisRequest { Features = [5.1, value, 1.4, 0.2] }]));
        Assert.Equal("invalid input in $.features[1]: expected a finite number", ex.Message);
    }

    [Fact]
    public void Requests_built_in_code_are_checked()
    {
        Assert.Contains("missing 'features'", Assert.Throws<RunnerInputException>(
            () => _runner.Classify([new IrisRequest()])).Message);
        Assert.Contains("got 3", Assert.Throws<RunnerInputException>(
            () => _runner.Classify([new IrisRequest { Features = [1, 2, 3] }])).Message);
        Assert.Contains("got null", Assert.Throws<RunnerInputException>(
            () => _runner.Classify([null!])).Message);
        Assert.Empty(_runner.Classify([]));
    }

    [Fact]
    public async Task A_bad_row_in_a_batch_fails_alone()
    {
        ReadOnlyMemory<byte>[] inputs = [.. new[] { "[5.1,3.5,1.4,0.2]", "[1,2]", """{"features":[6.3,3.3,6.0,2.5]}""" }.Select(t => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(t))];
        var results = new ItemResult[3];
        Assert.Equal(1, await _classify.InvokeBatch!(inputs, results, default));
        Assert.Equal(ItemStatus.Ok, results[0].Status);
        Assert.Equal(ItemStatus.InvalidInput, results[1].Status);
        Assert.Equal("invalid input in $: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 2", results[1].Message);
        Assert.Equal(ItemStatus.Ok, results[2].Status);
        Assert.Contains("virginica", Encoding.UTF8.GetString(results[2].Output.Span));
    }

    [Fact]
    public async Task Too_many_instances_are_rejected()
    {
        string Rows(int n) => "{\"instances\":[" + string.Join(',', Enumerable.Repeat("[5.1,3.5,1.4,0.2]", n)) + "]}";
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => CallText(Rows(InstancesEnvelope.MaxInstances + 1)));
        Assert.Equal("invalid input in $.instances: expected 10000 instances or fewer per request, got 10001", ex.Message);

        var response = await Call(Rows(InstancesEnvelope.MaxInstances));
        Assert.Equal(InstancesEnvelope.MaxInstances, response.GetArrayLength());
    }

    [Fact]
    public void Echo_returns_its_input()
    {
        var echo = new EchoRunner();
        byte[] input = Encoding.UTF8.GetBytes("hello \u00e9\0\u00ff");
        Assert.Equal(input, echo.Echo(input));
        Assert.Empty(echo.Echo([]));
    }

    [Theory]
    [InlineData(typeof(EchoRunner), "echo")]
    [InlineData(typeof(IrisClassifierRunner), "classify")]
    public void Runner_methods_are_exposed_under_their_manifest_names(Type runnerType, string name)
    {
        Assert.True(typeof(Runner).IsAssignableFrom(runnerType));
        var methods = runnerType.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<RunnerMethodAttribute>()?.Name == name)
            .ToArray();
        var method = Assert.Single(methods);
        Assert.Single(method.GetParameters());
    }
}
