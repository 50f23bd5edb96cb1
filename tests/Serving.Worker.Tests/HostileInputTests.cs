using System.Net;
using System.Text;
using System.Text.Json;
using Serving.Demo;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>
/// The demo classifier behind a real API worker and runner worker (production), and in a dev worker
/// (in process): two HTTP endpoints the hostile bodies are sent to.
/// </summary>
public sealed class HostileInputFixture : IAsyncLifetime
{
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    public TestHost Host { get; } = new();
    public WorkerProcess Runner { get; private set; } = null!;
    public WorkerProcess Api { get; private set; } = null!;
    public WorkerProcess Dev { get; private set; } = null!;
    public int ApiPort { get; } = TestHost.FreeTcpPort();
    public int DevPort { get; } = TestHost.FreeTcpPort();
    public HttpClient ApiClient { get; private set; } = null!;
    public HttpClient DevClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host.WriteConfig(requestTimeoutSeconds: 10, maxRequestBodyBytes: MaxBodyBytes,
            runnerType: typeof(IrisClassifierRunner).FullName!, assemblyPath: typeof(IrisClassifierRunner).Assembly.Location,
            apis: [("/classify", "classify", "Json", "Json")]);
        Runner = Host.StartRunner();
        Api = Host.StartApi($"http://127.0.0.1:{ApiPort}");
        Dev = Host.StartRole("dev", $"http://127.0.0.1:{DevPort}");
        await Task.WhenAll(Runner.WaitReadyAsync(), Api.WaitReadyAsync(), Dev.WaitReadyAsync());
        ApiClient = TestHost.Client(ApiPort);
        DevClient = TestHost.Client(DevPort);
    }

    public Task DisposeAsync()
    {
        ApiClient?.Dispose();
        DevClient?.Dispose();
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Hostile bodies against /classify: every answer is a 200 with finite numbers or a problem body
/// with the right status and error id, whose text names JSON paths and shapes, never .NET internals.
/// </summary>
public class HostileInputTests(HostileInputFixture fixture) : IClassFixture<HostileInputFixture>
{
    private const string Shape = "an object with 'features' (4 numbers) or an array of 4 numbers";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Nested(int depth) => "{\"features\":" + new string('[', depth) + new string(']', depth) + "}";

    private static string Instances(int rows) =>
        "{\"instances\":[" + string.Join(',', Enumerable.Repeat("[5.1,3.5,1.4,0.2]", rows)) + "]}";

    /// <summary>name → (body, status, errorId or null for 200, the detail or a part of it).</summary>
    private static readonly Dictionary<string, (byte[] Body, HttpStatusCode Status, string? ErrorId, string? Detail)> Cases = new()
    {
        ["1e308 x4"] = (Utf8("""{"features":[1e308,1e308,1e308,1e308]}"""), HttpStatusCode.OK, null, null),
        ["-1e308 x4"] = (Utf8("""{"features":[-1e308,-1e308,-1e308,-1e308]}"""), HttpStatusCode.OK, null, null),
        ["mixed 1e308 -1e308"] = (Utf8("""{"features":[1e308,-1e308,1e308,-1e308]}"""), HttpStatusCode.OK, null, null),
        ["largest double"] = (Utf8("""{"instances":[[1.7976931348623157e308,0,0,-1.7976931348623157e308],[5e-324,0,0,0]]}"""), HttpStatusCode.OK, null, null),
        ["1e309"] = (Utf8("""{"features":[1e309,1,1,1]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features[0]: expected a number, got 1e309 (out of range)"),
        ["-1e309 in instances"] = (Utf8("""{"instances":[[1,2,3,4],[1,2,-1e309,4]]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.instances[1][2]: expected a number, got -1e309 (out of range)"),
        ["features a string"] = (Utf8("""{"features":"abc"}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features: expected an array of numbers, got a string"),
        ["features of 3"] = (Utf8("""{"features":[1,2,3]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 3"),
        ["features null"] = (Utf8("""{"features":null}"""), HttpStatusCode.BadRequest, "InvalidInput", "invalid input in $: missing 'features'"),
        ["features true"] = (Utf8("""{"features":[true,1,1,1]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features[0]: expected a number, got true"),
        ["a number as a string"] = (Utf8("""{"features":["5.1",1,1,1]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features[0]: expected a number, got a string"),
        ["both"] = (Utf8("""{"features":[1,2,3,4],"instances":[[1,2,3,4]]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $: give either 'features' or 'instances', not both"),
        ["array"] = (Utf8("[]"), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $: expected exactly 4 numbers (sepal_length, sepal_width, petal_length, petal_width), got 0"),
        ["four numbers"] = (Utf8("[5.1,3.5,1.4,0.2]"), HttpStatusCode.OK, null, null),
        ["string"] = (Utf8("\"x\""), HttpStatusCode.BadRequest, "InvalidInput", $"invalid input in $: expected {Shape}, got a string"),
        ["number"] = (Utf8("42"), HttpStatusCode.BadRequest, "InvalidInput", $"invalid input in $: expected {Shape}, got a number"),
        ["null"] = (Utf8("null"), HttpStatusCode.BadRequest, "InvalidInput", "invalid input in $: expected an object with 'features' (4 numbers)"),
        ["instance a string"] = (Utf8("""{"instances":[[1,2,3,4],"x"]}"""), HttpStatusCode.BadRequest, "InvalidInput",
            $"invalid input in $.instances[1]: expected {Shape}, got a string"),
        ["nested 100"] = (Utf8(Nested(100)), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features[0]: expected a number, got an array"),
        // Valid JSON, deeper than any reader here goes: reported where the decoder stopped reading.
        ["nested 1000"] = (Utf8(Nested(1000)), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features[0]: expected a number, got an array"),
        ["nested 1000, broken at the end"] = (Utf8(Nested(1000)[..^1]), HttpStatusCode.BadRequest, "InvalidJson",
            "the request body is not valid JSON (syntax error in line 1"),
        ["invalid UTF-8 bytes"] = ([0xFF, 0xFE, 0x7B, 0x7D], HttpStatusCode.BadRequest, "InvalidJson", "the request body is not valid JSON"),
        ["invalid UTF-8 in a string"] = ([.. """{"features":[1,2,3,4],"note":" """u8, 0xC3, 0x28, .. "\"}"u8], HttpStatusCode.BadRequest, "InvalidJson",
            "the request body is not valid UTF-8"),
        ["trailing garbage"] = (Utf8("""{"features":[5.1,3.5,1.4,0.2]} x"""), HttpStatusCode.BadRequest, "InvalidJson",
            "the request body has more after its JSON value (line 1, position 32)"),
        ["two values"] = (Utf8("""{"features":[5.1,3.5,1.4,0.2]}{}"""), HttpStatusCode.BadRequest, "InvalidJson", "the request body has more after its JSON value"),
        ["truncated"] = (Utf8("""{"features":[5.1,3.5"""), HttpStatusCode.BadRequest, "InvalidJson", "the request body is not valid JSON (syntax error in line 1"),
        ["empty body"] = ([], HttpStatusCode.BadRequest, "InvalidJson", "the request body is empty"),
        ["10001 instances"] = (Utf8(Instances(10_001)), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.instances: expected 10000 instances or fewer per request, got 10001"),
        ["10000 instances"] = (Utf8(Instances(10_000)), HttpStatusCode.OK, null, null),
        ["2 MB string"] = (Utf8("{\"features\":\"" + new string('x', 2 * 1024 * 1024) + "\"}"), HttpStatusCode.BadRequest, "InvalidInput",
            "invalid input in $.features: expected an array of numbers, got a string"),
        ["over the body limit"] = (new byte[HostileInputFixture.MaxBodyBytes + 1], HttpStatusCode.RequestEntityTooLarge, "PayloadTooLarge",
            $"the request body is larger than {HostileInputFixture.MaxBodyBytes} bytes"),
    };

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Cases.Keys)
        {
            data.Add("api", name);
            data.Add("dev", name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Every_answer_is_a_result_or_a_problem_without_internals(string worker, string name)
    {
        var (body, status, errorId, detail) = Cases[name];
        var client = worker == "api" ? fixture.ApiClient : fixture.DevClient;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        // Expect: 100-continue, so that a body refused by its length (413) is not sent at all.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/classify") { Content = content };
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{name}: expected {status}, got {response.StatusCode}: {text}");
        ClientText.AssertClean(text);

        if (errorId is null)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            AssertFinitePredictions(JsonDocument.Parse(text).RootElement);
            return;
        }
        var problem = await ApiEndToEndTests.ProblemBody(response, status, errorId);
        var actual = problem.GetProperty("detail").GetString()!;
        Assert.True(actual.StartsWith(detail!, StringComparison.Ordinal), $"{name}: detail '{actual}' does not start with '{detail}'");
        Assert.Equal($"{worker}-1", problem.GetProperty("worker").GetString());

        // The client's doing (4xx): nothing for the operator's log.
        foreach (var w in new[] { fixture.Api, fixture.Runner, fixture.Dev })
            Assert.DoesNotContain(w.Lines, l => l.StartsWith("[err] fail:", StringComparison.Ordinal) || l.StartsWith("[err] warn:", StringComparison.Ordinal));
    }

    private static void AssertFinitePredictions(JsonElement response)
    {
        var predictions = response.ValueKind == JsonValueKind.Array ? response.EnumerateArray().ToList() : [response];
        Assert.NotEmpty(predictions);
        foreach (var prediction in predictions)
        {
            Assert.Contains(prediction.GetProperty("label").GetString(), IrisModel.Labels);
            var p = prediction.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(IrisModel.ClassCount, p.Length);
            Assert.All(p, v => Assert.True(double.IsFinite(v) && v >= 0 && v <= 1, v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(1.0, p.Sum(), 1e-12);
        }
    }

}
