using System.Reflection;
using System.Text;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Demo.Tests;

public sealed class RunnerTests
{
    private readonly IrisClassifierRunner _runner = new();

    /// <summary>What the host does: deserialise with the runner's options, call, serialise with them.</summary>
    private JsonElement Call(string requestJson)
    {
        var options = _runner.JsonOptions;
        var request = JsonSerializer.Deserialize<IrisRequest>(requestJson, options);
        IrisResponse response = _runner.Classify(request);
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(response, options);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

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
    public void Features_request_returns_one_prediction_object()
    {
        JsonElement response = Call("""{"features":[5.1,3.5,1.4,0.2]}""");
        AssertPrediction(response, "setosa");
    }

    [Fact]
    public void Instances_request_returns_an_array_in_request_order()
    {
        JsonElement response = Call("""{"instances":[[6.3,3.3,6.0,2.5],[5.1,3.5,1.4,0.2],[7.0,3.2,4.7,1.4]]}""");

        Assert.Equal(JsonValueKind.Array, response.ValueKind);
        Assert.Equal(3, response.GetArrayLength());
        AssertPrediction(response[0], "virginica");
        AssertPrediction(response[1], "setosa");
        AssertPrediction(response[2], "versicolor");
    }

    [Fact]
    public void Single_instance_is_still_an_array()
    {
        JsonElement response = Call("""{"instances":[[5.1,3.5,1.4,0.2]]}""");
        Assert.Equal(JsonValueKind.Array, response.ValueKind);
        AssertPrediction(response[0], "setosa");
    }

    [Fact]
    public void Property_names_are_case_insensitive_and_unknown_ones_ignored()
    {
        AssertPrediction(Call("""{"Features":[5.1,3.5,1.4,0.2],"id":7}"""), "setosa");
    }

    [Fact]
    public void Response_probabilities_match_the_model()
    {
        var response = _runner.Classify(new IrisRequest { Features = [6.3, 3.3, 6.0, 2.5] });
        var expected = new double[3];
        int label = IrisModel.Predict([6.3, 3.3, 6.0, 2.5], expected);

        Assert.NotNull(response.Prediction);
        Assert.Null(response.Predictions);
        Assert.Equal(IrisModel.Labels[label], response.Prediction.Label);
        Assert.Equal(expected, response.Prediction.Probabilities);
    }

    [Fact]
    public void Responses_round_trip_through_the_converter()
    {
        var options = _runner.JsonOptions;
        var single = _runner.Classify(new IrisRequest { Features = [5.1, 3.5, 1.4, 0.2] });
        var back = JsonSerializer.Deserialize<IrisResponse>(JsonSerializer.Serialize(single, options), options)!;
        Assert.Equal("setosa", back.Prediction!.Label);
        Assert.Equal(single.Prediction!.Probabilities, back.Prediction.Probabilities);

        var batch = _runner.Classify(new IrisRequest { Instances = [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]] });
        var backBatch = JsonSerializer.Deserialize<IrisResponse>(JsonSerializer.Serialize(batch, options), options)!;
        Assert.Null(backBatch.Prediction);
        Assert.Equal(["setosa", "virginica"], backBatch.Predictions!.Select(p => p.Label));
    }

    [Theory]
    [InlineData("""{"features":[1e308,1e308,1e308,1e308]}""")]
    [InlineData("""{"features":[-1e308,-1e308,-1e308,-1e308]}""")]
    [InlineData("""{"features":[1e308,-1e308,1e308,-1e308]}""")]
    [InlineData("""{"features":[1.7976931348623157e308,0,0,-1.7976931348623157e308]}""")]
    [InlineData("""{"features":[5e-324,-5e-324,1e-308,0]}""")]
    [InlineData("""{"features":[-5.1,-3.5,-1.4,-0.2]}""")]
    [InlineData("""{"instances":[[1e308,1e308,1e308,1e308],[5.1,3.5,1.4,0.2],[-1e308,0,0,1e308]]}""")]
    public void Extreme_finite_inputs_are_answered_with_finite_json(string requestJson)
    {
        JsonElement response = Call(requestJson);
        var predictions = response.ValueKind == JsonValueKind.Array ? response.EnumerateArray().ToArray() : [response];
        foreach (var prediction in predictions)
        {
            var probabilities = prediction.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.All(probabilities, p => Assert.True(double.IsFinite(p) && p >= 0 && p <= 1, p.ToString()));
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
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("""{"feature":[5.1,3.5,1.4,0.2]}""")]
    [InlineData("""{"features":null}""")]
    [InlineData("""{"features":[]}""")]
    [InlineData("""{"features":[5.1,3.5,1.4]}""")]
    [InlineData("""{"features":[5.1,3.5,1.4,0.2,0.1]}""")]
    [InlineData("""{"features":[5.1,3.5,1.4,1e999]}""")]
    [InlineData("""{"features":[-1e999,3.5,1.4,0.2]}""")]
    [InlineData("""{"features":[5.1,3.5,1.4,0.2],"instances":[[5.1,3.5,1.4,0.2]]}""")]
    [InlineData("""{"instances":[]}""")]
    [InlineData("""{"instances":[null]}""")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2],[5.1,3.5,1.4]]}""")]
    [InlineData("""{"instances":[[5.1,3.5,1.4,0.2],[5.1,3.5,1.4,1e999]]}""")]
    public void Bad_json_input_throws_RunnerInputException(string requestJson)
    {
        var ex = Assert.Throws<RunnerInputException>(() => Call(requestJson));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    public static TheoryData<double> NonFinite => new() { double.NaN, double.PositiveInfinity, double.NegativeInfinity };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Non_finite_features_throw_RunnerInputException(double value)
    {
        var ex = Assert.Throws<RunnerInputException>(() => _runner.Classify(new IrisRequest { Features = [5.1, value, 1.4, 0.2] }));
        Assert.Contains("features[1]", ex.Message);

        ex = Assert.Throws<RunnerInputException>(() => _runner.Classify(new IrisRequest { Instances = [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, value, 0.2]] }));
        Assert.Contains("instances[1][2]", ex.Message);
    }

    [Fact]
    public void Messages_say_what_is_wrong()
    {
        Assert.Contains("not both", Assert.Throws<RunnerInputException>(
            () => _runner.Classify(new IrisRequest { Features = [1, 2, 3, 4], Instances = [[1, 2, 3, 4]] })).Message);
        Assert.Contains("missing 'features'", Assert.Throws<RunnerInputException>(
            () => _runner.Classify(new IrisRequest())).Message);
        Assert.Contains("got 3", Assert.Throws<RunnerInputException>(
            () => _runner.Classify(new IrisRequest { Features = [1, 2, 3] })).Message);
        Assert.Contains("one row or more", Assert.Throws<RunnerInputException>(
            () => _runner.Classify(new IrisRequest { Instances = [] })).Message);
        Assert.Contains("instances[0]", Assert.Throws<RunnerInputException>(
            () => _runner.Classify(new IrisRequest { Instances = [null!] })).Message);
    }

    [Fact]
    public void Too_many_instances_are_rejected()
    {
        var rows = new double[IrisClassifierRunner.MaxInstances + 1][];
        Array.Fill(rows, [5.1, 3.5, 1.4, 0.2]);
        Assert.Throws<RunnerInputException>(() => _runner.Classify(new IrisRequest { Instances = rows }));

        var response = _runner.Classify(new IrisRequest { Instances = rows[..IrisClassifierRunner.MaxInstances] });
        Assert.Equal(IrisClassifierRunner.MaxInstances, response.Predictions!.Count);
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
