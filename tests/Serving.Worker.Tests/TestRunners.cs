using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Worker.Tests;

/// <summary>
/// The runner the end-to-end tests host in real worker processes (host.json points at this test
/// assembly). One method per behaviour under test.
/// </summary>
public sealed class TestRunner : Runner
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private Action<string> _log = _ => { };

    public override JsonSerializerOptions JsonOptions => Options;

    public override ValueTask InitializeAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        if (context.Environment.TryGetValue("FAIL_INIT", out var fail) && fail == "1")
            throw new InvalidOperationException("initialisation failed on purpose");
        _log = context.Log;
        context.Log($"test runner '{context.RunnerName}' worker {context.WorkerIndex}/{context.WorkerCount} initialised");
        return ValueTask.CompletedTask;
    }

    [RunnerMethod("echo")]
    public byte[] Echo(byte[] input) => input;

    [RunnerMethod("reverse")]
    public ReadOnlyMemory<byte> Reverse(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        var copy = input.ToArray();
        Array.Reverse(copy);
        return copy;
    }

    [RunnerMethod("upper")]
    public Task<string> Upper(string text) => Task.FromResult(text.ToUpperInvariant());

    // No explicit name: APIs call it "sum" (names match case-insensitively).
    [RunnerMethod]
    public async ValueTask<SumReply> Sum(SumRequest request, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var total = 0;
        foreach (var v in request.Values)
            total += v;
        return new SumReply(total, request.RequestId);
    }

    /// <summary>A batch takes 400 ms whatever its size: for tests of the batch queue (deadlines, shedding).</summary>
    [RunnerMethod("slowbatch", Batchable = true, MaxBatchSize = 2, MaxLatencyMs = 1)]
    public async Task<string[]> SlowBatch(IReadOnlyList<string> inputs, CancellationToken cancellationToken)
    {
        await Task.Delay(400, cancellationToken);
        return inputs.Select(i => "done " + i).ToArray();
    }

    /// <summary>Blocks its thread (a synchronous model call, say) for the given milliseconds.</summary>
    [RunnerMethod("block")]
    public string Block(string milliseconds)
    {
        Thread.Sleep(int.Parse(milliseconds, System.Globalization.CultureInfo.InvariantCulture));
        return "ok";
    }

    [RunnerMethod("bad")]
    public string Bad(string text) => throw new RunnerInputException("bad input: " + text);

    [RunnerMethod("fail")]
    public string Fail(string text) => throw new InvalidOperationException("secret internal detail");

    [RunnerMethod("slow")]
    public async Task<string> Slow(string milliseconds, CancellationToken cancellationToken)
    {
        _log("slow started " + milliseconds);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Task.Delay(int.Parse(milliseconds, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Lets tests see that a client's cancellation or deadline reached the runner.
            _log($"slow cancelled after {watch.ElapsedMilliseconds} ms of {milliseconds} ms");
            throw;
        }
        return "slept " + milliseconds;
    }

    /// <summary>The words of the text as a JSON array (CallStream sends one reply per element).</summary>
    [RunnerMethod("split")]
    public string[] Split(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A result JSON cannot hold: the runner's failure, not the client's.</summary>
    [RunnerMethod("nan")]
    public double[] NotANumber(string text) => [1, double.NaN];

    [RunnerMethod("whoami")]
    public string WhoAmI(string ignored) => Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record SumRequest(int[] Values, string? RequestId);

public sealed record SumReply(int Total, string? RequestId);
