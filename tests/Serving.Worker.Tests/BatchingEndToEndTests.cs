using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Serving.Demo;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>The demo classifier (batchable) behind one runner worker and two API workers: batches gather calls from both.</summary>
public sealed class BatchingFixture : IAsyncLifetime
{
    public TestHost Host { get; } = new();
    public WorkerProcess Runner { get; private set; } = null!;
    public int[] Ports { get; } = [TestHost.FreeTcpPort(), TestHost.FreeTcpPort()];
    public HttpClient[] Clients { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Host.WriteConfig(requestTimeoutSeconds: 30,
            runnerType: typeof(IrisClassifierRunner).FullName!, assemblyPath: typeof(IrisClassifierRunner).Assembly.Location,
            apis: [("/classify", "classify", "Json", "Json")]);
        Runner = Host.StartRunner();
        var api1 = Host.StartApi($"http://127.0.0.1:{Ports[0]}", index: 1);
        var api2 = Host.StartApi($"http://127.0.0.1:{Ports[1]}", index: 2);
        await Task.WhenAll(Runner.WaitReadyAsync(), api1.WaitReadyAsync(), api2.WaitReadyAsync());
        Clients = [TestHost.Client(Ports[0]), TestHost.Client(Ports[1])];
    }

    public Task DisposeAsync()
    {
        foreach (var client in Clients)
            client.Dispose();
        Host.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The runner worker's latest <c>@@serving stats</c> report.</summary>
    public JsonElement? LatestStats()
    {
        var line = Runner.Lines.LastOrDefault(l => l.StartsWith("@@serving stats ", StringComparison.Ordinal));
        return line is null ? null : JsonDocument.Parse(line["@@serving stats ".Length..]).RootElement;
    }
}

public class BatchingEndToEndTests(BatchingFixture fixture) : IClassFixture<BatchingFixture>
{
    /// <summary>What the model says about one row, computed here, in this process.</summary>
    private static string Expected(double[] row)
    {
        var probabilities = new double[3];
        var label = IrisModel.Predict(row, probabilities);
        return JsonSerializer.Serialize(new { label = IrisModel.Labels[label], probabilities });
    }

    private static double[] Row(Random random) =>
        [Math.Round(4 + random.NextDouble() * 4, 2), Math.Round(2 + random.NextDouble() * 2.5, 2), Math.Round(1 + random.NextDouble() * 6, 2), Math.Round(random.NextDouble() * 2.5, 2)];

    private static StringContent Features(double[] row) =>
        new(JsonSerializer.Serialize(new { features = row }), Encoding.UTF8, "application/json");

    [Fact]
    public async Task Concurrent_mixed_rows_each_get_their_own_answer_and_batches_hold_several()
    {
        var before = fixture.LatestStats();
        var batchesBefore = before?.GetProperty("batches").GetInt64() ?? 0;
        var itemsBefore = before?.GetProperty("items").GetInt64() ?? 0;

        // 64 clients, each sending 25 different rows one after another, spread over both API workers.
        var mismatches = 0;
        var clients = Enumerable.Range(0, 64).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var http = fixture.Clients[c % 2];
            for (var i = 0; i < 25; i++)
            {
                var row = Row(random);
                using var response = await http.PostAsync("/classify", Features(row));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (await response.Content.ReadAsStringAsync() != Expected(row))
                    Interlocked.Increment(ref mismatches);
            }
        }));
        await Task.WhenAll(clients);
        Assert.Equal(0, mismatches);

        // The runner's report (once a second) shows calls gathered into batches larger than one.
        JsonElement stats = default;
        await TestHost.Eventually(() =>
        {
            stats = fixture.LatestStats() ?? default;
            return Task.FromResult(stats.ValueKind == JsonValueKind.Object && stats.GetProperty("items").GetInt64() - itemsBefore >= 64 * 25);
        }, TimeSpan.FromSeconds(10), "a stats report counting every call");
        var batches = stats.GetProperty("batches").GetInt64() - batchesBefore;
        var items = stats.GetProperty("items").GetInt64() - itemsBefore;
        Assert.True(batches < items, $"{items} items in {batches} batches: no batch held more than one");
    }

    [Fact]
    public async Task A_bad_row_fails_alone_among_concurrent_good_ones()
    {
        for (var round = 0; round < 5; round++)
        {
            var random = new Random(100 + round);
            var rows = Enumerable.Range(0, 63).Select(_ => Row(random)).ToArray();
            var good = rows.Select((row, i) => Task.Run(async () =>
            {
                using var response = await fixture.Clients[i % 2].PostAsync("/classify", Features(row));
                return (response.StatusCode, await response.Content.ReadAsStringAsync(), Expected(row));
            })).ToArray();
            var bad = Task.Run(async () =>
            {
                using var response = await fixture.Clients[round % 2].PostAsync("/classify", Features([5.1, 3.5, 1.4]));
                return (response.StatusCode, await response.Content.ReadAsStringAsync());
            });
            var (badStatus, badBody) = await bad;
            Assert.Equal(HttpStatusCode.BadRequest, badStatus);
            Assert.Contains("\"errorId\":\"InvalidInput\"", badBody);
            Assert.Contains("features", badBody);
            foreach (var (status, body, expected) in await Task.WhenAll(good))
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal(expected, body);
            }
        }
    }

    [Fact]
    public async Task An_instances_request_joins_the_batch_as_its_rows_and_gets_them_back_in_order()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 5).Select(_ => Row(random)).ToArray();
        using var response = await fixture.Clients[0].PostAsync("/classify",
            new StringContent(JsonSerializer.Serialize(new { instances = rows }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[" + string.Join(",", rows.Select(Expected)) + "]", await response.Content.ReadAsStringAsync());

        // One bad row fails the request, naming it.
        var withBad = new object[] { rows[0], new[] { 1.0, 2.0 }, rows[1] };
        using var bad = await fixture.Clients[1].PostAsync("/classify",
            new StringContent(JsonSerializer.Serialize(new { instances = withBad }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("$.instances[1]", await bad.Content.ReadAsStringAsync());
    }
}

/// <summary>The batch queue under a slow model: deadlines that pass in the queue, and shedding when it is full.</summary>
public class BatchQueueTests
{
    [Fact]
    public async Task Calls_whose_deadline_passes_in_the_queue_are_answered_504_without_running()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 1);
        var (runner, api, port) = await host.StartRunnerAndApiAsync();
        using var client = TestHost.Client(port);

        // Batches of two take 400 ms each: of ten calls, at most the first six can finish within the 1 s
        // deadline — usually four; on a busy machine (the calls' own connects and JIT eat into the second)
        // as few as the first batch's one or two.
        var calls = Enumerable.Range(0, 10).Select(i => client.PostAsync("/slowbatch", TestHost.Body("c" + i))).ToArray();
        var responses = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        var ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var timedOut = responses.Count(r => r.StatusCode == HttpStatusCode.GatewayTimeout);
        Assert.Equal(10, ok + timedOut);
        Assert.InRange(ok, 1, 6);
        // Those still queued at their deadline never ran (the API worker's cancel or the deadline took them out of the queue).
        JsonElement stats = default;
        await TestHost.Eventually(() =>
        {
            var line = runner.Lines.LastOrDefault(l => l.StartsWith("@@serving stats "));
            if (line is null)
                return Task.FromResult(false);
            stats = JsonDocument.Parse(line["@@serving stats ".Length..]).RootElement;
            return Task.FromResult(stats.GetProperty("calls").GetInt64() == 10 && stats.GetProperty("queued").GetInt64() == 0);
        }, TimeSpan.FromSeconds(5), "a stats report after the ten calls");
        var left = stats.GetProperty("timedOut").GetInt64() + stats.GetProperty("cancelled").GetInt64();
        Assert.True(left >= 2, $"{left} calls taken out of the queue unrun");
        Assert.True(stats.GetProperty("items").GetInt64() <= 10 - left, stats.ToString());
        foreach (var response in responses)
            response.Dispose();
    }

    [Fact]
    public async Task A_full_queue_sheds_at_once_with_503_and_retry_after()
    {
        using var host = new TestHost();
        host.WriteConfig(requestTimeoutSeconds: 30);
        var (runner, api, port) = await host.StartRunnerAndApiAsync();
        using var client = TestHost.Client(port);

        // MaxBatchSize 2: the queue holds 32 items; of 80 calls at once, the rest is shed.
        var watch = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 80).Select(async i =>
        {
            using var response = await client.PostAsync("/slowbatch", TestHost.Body("s" + i));
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, await response.Content.ReadAsStringAsync(), watch.Elapsed);
        }).ToArray();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        var shed = results.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.True(shed.Length >= 30, $"{shed.Length} of 80 shed");
        Assert.All(shed, r =>
        {
            Assert.Contains("\"errorId\":\"Overloaded\"", r.Item3);
            Assert.True(r.Delta >= TimeSpan.FromSeconds(1), "Retry-After");
        });
        // Shed at once, not after waiting their turn.
        Assert.True(shed.Min(r => r.Elapsed) < TimeSpan.FromSeconds(2));
        Assert.Equal(80, shed.Length + results.Count(r => r.StatusCode == HttpStatusCode.OK));
        // Not logged per request: a flood of them would bury the log.
        Assert.DoesNotContain(api.Lines, l => l.Contains("Overloaded request"));
    }
}
