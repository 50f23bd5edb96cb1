using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Fixture;

/// <summary><c>{"values":[1,2,3]}</c></summary>
public sealed class SumRequest
{
    public double[]? Values { get; set; }
}

/// <summary><c>{"sum":6}</c></summary>
public sealed record SumResponse(double Sum);

/// <summary><c>{"ms":250}</c></summary>
public sealed class SlowRequest
{
    public int Ms { get; set; }
}

/// <summary><c>{"waited":250}</c></summary>
public sealed record SlowResponse(int Waited);

/// <summary>
/// A user-written runner for the end-to-end tests. It uses the default (reflection-based, camelCase)
/// JSON options on purpose, so the default path is covered too.
/// </summary>
public sealed class TextRunner : Runner
{
    /// <summary>Longest wait <c>slow</c> accepts.</summary>
    public const int MaxSlowMs = 600_000;

    private int _workerIndex;

    private Action<string>? _log;

    public override ValueTask InitializeAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Lets a test make a worker fail while the host starts (a model that cannot load).
        if (Environment.GetEnvironmentVariable("FIXTURE_FAIL_INIT") == "1")
            throw new InvalidOperationException("fixture asked to fail: model weights could not be loaded");
        _workerIndex = context.WorkerIndex;
        _log = context.Log;
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"text runner '{context.RunnerName}' worker {context.WorkerIndex}/{context.WorkerCount} initialised"));
        return ValueTask.CompletedTask;
    }

    /// <summary>Reverses the text by user-perceived characters (surrogate pairs and combining marks stay whole).</summary>
    /// <summary>Upper-cases a batch of texts in one call.</summary>
    [RunnerMethod("upperall", Batchable = true, MaxBatchSize = 16, MaxLatencyMs = 2)]
    public string[] UpperAll(IReadOnlyList<string> texts) => texts.Select(t => t.ToUpperInvariant()).ToArray();

    [RunnerMethod("reverse")]
    public string Reverse(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var elements = new List<string>();
        TextElementEnumerator e = StringInfo.GetTextElementEnumerator(input);
        while (e.MoveNext())
        {
            elements.Add(e.GetTextElement());
        }
        var sb = new StringBuilder(input.Length);
        for (int i = elements.Count - 1; i >= 0; i--)
        {
            sb.Append(elements[i]);
        }
        return sb.ToString();
    }

    [RunnerMethod("sum")]
    public SumResponse Sum(SumRequest? request)
    {
        if (request?.Values is not { } values)
        {
            throw new RunnerInputException("Expected {\"values\":[numbers]}.");
        }
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }
        return new SumResponse(sum);
    }

    /// <summary>Always fails with an ordinary exception: clients must see an internal error, no stack trace.</summary>
    [RunnerMethod("fail")]
    public JsonElement Fail(JsonElement input) => throw new InvalidOperationException("boom");

    /// <summary>Waits <c>ms</c> milliseconds, giving up early when the call is cancelled.</summary>
    [RunnerMethod("slow")]
    public async Task<SlowResponse> Slow(SlowRequest? request, CancellationToken cancellationToken)
    {
        if (request is null || request.Ms < 0 || request.Ms > MaxSlowMs)
        {
            throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                $"Expected {{\"ms\":N}} with 0 <= N <= {MaxSlowMs}."));
        }
        var started = System.Diagnostics.Stopwatch.StartNew();
        // Lets tests wait until a slow call is in flight.
        _log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"slow: started {request.Ms} ms"));
        try
        {
            await Task.Delay(request.Ms, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Lets tests see that a client's cancellation or deadline reached the runner.
            _log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"slow: cancelled after {started.ElapsedMilliseconds} ms of {request.Ms} ms"));
            throw;
        }
        return new SlowResponse(request.Ms);
    }

    /// <summary>
    /// Ignores its input. Returns the process environment variables named <c>FIXTURE_*</c> and
    /// <c>SERVING_WORKER_INDEX</c> (string values), plus <c>workerIndex</c>: the number the
    /// <see cref="RunnerContext"/> gave <see cref="InitializeAsync"/> (0 before it ran).
    /// </summary>
    [RunnerMethod("env")]
    public SortedDictionary<string, object?> Env(byte[] input)
    {
        var result = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && name.StartsWith("FIXTURE_", StringComparison.Ordinal))
            {
                result[name] = Environment.GetEnvironmentVariable(name);
            }
        }
        result["SERVING_WORKER_INDEX"] = Environment.GetEnvironmentVariable("SERVING_WORKER_INDEX");
        result["workerIndex"] = _workerIndex;
        return result;
    }
}
