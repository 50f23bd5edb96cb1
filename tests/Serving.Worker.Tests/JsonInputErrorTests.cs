using System.Text;
using System.Text.Json;
using Serving.Abstractions;
using Serving.Worker.Runners;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

public sealed class Shapes
{
    public double[]? Features { get; set; }
    public double[][]? Instances { get; set; }
    public int Count { get; set; }
    public float Ratio { get; set; }
    public Dictionary<string, double>? Weights { get; set; }
    public bool Flag { get; set; }
    public DateTime? When { get; set; }
    public Shapes? Child { get; set; }
}

public sealed class Needs
{
    public required string Name { get; set; }
    public int Age { get; set; }
}

public sealed class Lenient
{
    [System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals)]
    public double Value { get; set; }
}

/// <summary>Methods whose JSON input and output the binder's error paths are tested with.</summary>
public sealed class InputRunner : Runner
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public override JsonSerializerOptions JsonOptions => Options;

    [RunnerMethod] public int Shape(Shapes input) => input.Count;
    [RunnerMethod] public int Need(Needs input) => input.Age;
    [RunnerMethod] public double Total(double[] values) => values.Sum();
    [RunnerMethod] public string Any(JsonElement input) => input.ValueKind.ToString();
    [RunnerMethod] public string Keep(Lenient input) => input.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    [RunnerMethod] public double NotANumber(string input) => double.NaN;
    [RunnerMethod] public double[] Infinite(string input) => [1, double.PositiveInfinity];
}

/// <summary>
/// The messages clients get for JSON input a method cannot take: the JSON path, the expected shape
/// there from the runner's metadata, what the input holds there — never a .NET name.
/// </summary>
public class JsonInputErrorTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, BoundMethod>> Methods = new(() => MethodBinder.BindAll(new InputRunner()));

    private static async Task<string> Error(string method, byte[] input)
    {
        var ex = await Assert.ThrowsAsync<RunnerInputException>(async () => await Methods.Value[method].Invoke(input, default));
        ClientText.AssertClean(ex.Message);
        return ex.Message;
    }

    private static Task<string> Error(string method, string input) => Error(method, Encoding.UTF8.GetBytes(input));

    private const string ShapesShape = "an object with 'features', 'instances', 'count', 'ratio', 'weights', 'flag' and 2 more";

    [Theory]
    [InlineData("""{"features":[1e309]}""", "invalid input in $.features[0]: expected a number, got 1e309 (out of range)")]
    [InlineData("""{"features":[1,-1e400]}""", "invalid input in $.features[1]: expected a number, got -1e400 (out of range)")]
    [InlineData("""{"features":"abc"}""", "invalid input in $.features: expected an array of numbers, got a string")]
    [InlineData("""{"features":{}}""", "invalid input in $.features: expected an array of numbers, got an object")]
    [InlineData("""{"instances":[[1,2],"x"]}""", "invalid input in $.instances[1]: expected an array of numbers, got a string")]
    [InlineData("""{"instances":[[1,"x"]]}""", "invalid input in $.instances[0][1]: expected a number, got a string")]
    [InlineData("""{"instances":7}""", "invalid input in $.instances: expected an array of arrays of numbers, got a number")]
    [InlineData("""{"count":1e20}""", "invalid input in $.count: expected an integer from -2147483648 to 2147483647, got 1e20 (not an integer in that range)")]
    [InlineData("""{"count":1.5}""", "invalid input in $.count: expected an integer from -2147483648 to 2147483647, got 1.5 (not an integer in that range)")]
    [InlineData("""{"count":null}""", "invalid input in $.count: expected an integer from -2147483648 to 2147483647, got null")]
    [InlineData("""{"ratio":1e39}""", "invalid input in $.ratio: expected a number, got 1e39 (out of range)")]
    [InlineData("""{"weights":{"a":"x"}}""", "invalid input in $.weights.a: expected a number, got a string")]
    [InlineData("""{"weights":[1]}""", "invalid input in $.weights: expected an object whose member values are numbers, got an array")]
    [InlineData("""{"flag":1}""", "invalid input in $.flag: expected true or false, got a number")]
    [InlineData("""{"when":"yesterday"}""", "invalid input in $.when: the value does not have the expected form; expected a date and time string (ISO 8601) or null")]
    [InlineData("""{"child":{"count":"x"}}""", "invalid input in $.child.count: expected an integer from -2147483648 to 2147483647, got a string")]
    [InlineData("""{"Features":[true]}""", "invalid input in $.Features[0]: expected a number, got true")]
    [InlineData("[]", "invalid input in $: expected " + ShapesShape + ", got an array")]
    [InlineData("\"x\"", "invalid input in $: expected " + ShapesShape + ", got a string")]
    public async Task Shape_errors_name_the_path_the_expected_shape_and_what_was_there(string input, string expected) =>
        Assert.Equal(expected, await Error("Shape", input));

    /// <summary>
    /// Input that is not one JSON value by the runner's reading rules is InvalidJson, not InvalidInput:
    /// the decoder is the only JSON pass (the API worker forwards bodies unparsed), and its message is a
    /// predicate each front door puts its noun before.
    /// </summary>
    [Theory]
    [InlineData("", "is empty")]
    [InlineData("  \n", "is empty")]
    [InlineData("{} x", "has more after its JSON value (line 1, position 4)")]
    [InlineData("{\"features\":[1,", "is not valid JSON (syntax error in line 1, position 15)")]
    [InlineData("nope", "is not valid JSON (syntax error in line 1, position 2)")]
    public async Task Syntax_errors_are_invalid_json_told_as_a_predicate(string input, string expected) =>
        Assert.Equal(expected, await SyntaxError("Shape", Encoding.UTF8.GetBytes(input)));

    [Fact]
    public async Task Depth_past_the_runners_limit_and_bytes_that_are_not_utf8_are_invalid_json()
    {
        Assert.Equal("nests deeper than 64 levels", await SyntaxError("Any", Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100))));
        // In a member the method reads, and in one it skips: the serializer alone would let the second through.
        Assert.Equal("is not valid UTF-8 (in the string from byte offset 8)", await SyntaxError("Need", [.. "{\"name\":\""u8, 0xff, 0xfe, .. "\"}"u8]));
        Assert.Equal("is not valid UTF-8 (in the string from byte offset 16)",
            await SyntaxError("Need", [.. "{\"name\":\"a\",\"x\":\""u8, 0xc3, 0x28, .. "\"}"u8]));
    }

    private static async Task<string> SyntaxError(string method, byte[] input)
    {
        var ex = await Assert.ThrowsAsync<RunnerJsonSyntaxException>(async () => await Methods.Value[method].Invoke(input, default));
        ClientText.AssertClean(ex.Message);
        return ex.Message;
    }

    [Fact]
    public async Task Required_members_unicode_and_top_level_arrays()
    {
        Assert.Equal("invalid input in $: member 'name' is required; expected an object with 'name' (required) and 'age'",
            await Error("Need", "{\"age\":3}"));
        Assert.Equal("invalid input in $.name: the string is not valid Unicode; expected a string",
            await Error("Need", "{\"name\":\"\\ud800\"}"));
        Assert.Equal("invalid input in $[1]: expected a number, got 1e400 (out of range)", await Error("Total", "[1, 1e400]"));
        Assert.Equal("invalid input in $: expected an array of numbers, got an object", await Error("Total", "{\"a\":1}"));
    }

    [Fact]
    public async Task Finite_numbers_in_range_still_decode()
    {
        var result = await Methods.Value["Total"].Invoke("[1e308, -1e308, 5e-324, 1.7976931348623157e308]"u8.ToArray(), default);
        Assert.Equal(1.7976931348623157e308, JsonSerializer.Deserialize<double>(result.Span));
        result = await Methods.Value["Any"].Invoke("[1e999]"u8.ToArray(), default);
        Assert.Equal("Array", Encoding.UTF8.GetString(result.Span));
    }

    [Fact]
    public async Task A_runner_that_asks_for_named_literals_keeps_them()
    {
        // [JsonNumberHandling(AllowNamedFloatingPointLiterals)]: the runner wants "Infinity" as it is.
        var result = await Methods.Value["Keep"].Invoke("{\"value\":\"-Infinity\"}"u8.ToArray(), default);
        Assert.Equal(double.NegativeInfinity.ToString(System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(result.Span));
    }

    [Theory]
    [InlineData("NotANumber")]
    [InlineData("Infinite")]
    public async Task A_result_that_cannot_be_written_as_json_is_a_RunnerResultException(string method)
    {
        var ex = await Assert.ThrowsAsync<RunnerResultException>(async () => await Methods.Value[method].Invoke("x"u8.ToArray(), default));
        Assert.Equal("returned a result that cannot be written as JSON", ex.Message);
        Assert.IsType<ArgumentException>(ex.InnerException);
    }
}
