using System.Collections.Immutable;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Worker.Tests;

public sealed record Flower(double[] Features);

public sealed record Label(string Name, double Score);

/// <summary>Batchable methods of every supported shape, bound in process; each records the batches it was called with.</summary>
public sealed class BatchRunner : Runner
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public override JsonSerializerOptions JsonOptions => Options;

    /// <summary>The sizes of the calls made, in order.</summary>
    public List<int> Calls { get; } = [];

    /// <summary>What "Wrong" returns more (or fewer, if negative) than it was given.</summary>
    public int Surplus { get; set; }

    private static Label Classify(Flower f) => new(f.Features.Sum() > 10 ? "big" : "small", f.Features.Sum());

    [RunnerMethod("readonly", Batchable = true)]
    public Label[] ReadOnlyListToArray(IReadOnlyList<Flower> flowers)
    {
        Calls.Add(flowers.Count);
        return [.. flowers.Select(Classify)];
    }

    [RunnerMethod("ilist", Batchable = true, MaxBatchSize = 8, MaxLatencyMs = 3)]
    public List<Label> IListToList(IList<Flower> flowers)
    {
        Calls.Add(flowers.Count);
        flowers.Add(new Flower([0])); // a List<T>: the method may change it
        return [.. flowers.Take(flowers.Count - 1).Select(Classify)];
    }

    [RunnerMethod("list", Batchable = true)]
    public Task<IReadOnlyList<Label>> ListToTask(List<Flower> flowers)
    {
        Calls.Add(flowers.Count);
        return Task.FromResult<IReadOnlyList<Label>>([.. flowers.Select(Classify)]);
    }

    [RunnerMethod("array", Batchable = true)]
    public async ValueTask<IList<Label>> ArrayToValueTask(Flower[] flowers, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Calls.Add(flowers.Length);
        return [.. flowers.Select(Classify)];
    }

    [RunnerMethod("immutable", Batchable = true)]
    public ImmutableArray<Label> Immutable(Flower[] flowers)
    {
        Calls.Add(flowers.Length);
        return [.. flowers.Select(Classify)];
    }

    [RunnerMethod("upper", Batchable = true)]
    public string[] Upper(IReadOnlyList<string> texts)
    {
        Calls.Add(texts.Count);
        return [.. texts.Select(t => t.ToUpperInvariant())];
    }

    [RunnerMethod("reverse", Batchable = true)]
    public byte[][] Reverse(IReadOnlyList<byte[]> payloads)
    {
        Calls.Add(payloads.Count);
        return [.. payloads.Select(p => p.Reverse().ToArray())];
    }

    [RunnerMethod("memory", Batchable = true)]
    public ReadOnlyMemory<byte>[] Memory(ReadOnlyMemory<byte>[] payloads)
    {
        Calls.Add(payloads.Length);
        return [.. payloads.Select(p => p[1..])];
    }

    [RunnerMethod("square", Batchable = true)]
    public int[] Square(int[] values)
    {
        Calls.Add(values.Length);
        return [.. values.Select(v => v * v)];
    }

    /// <summary>Fails the whole call while it holds a negative number; −1 alone is bad input, any other negative a failure.</summary>
    [RunnerMethod("picky", Batchable = true)]
    public double[] Picky(double[] values)
    {
        Calls.Add(values.Length);
        if (values.Length == 1 && values[0] == -1)
            throw new RunnerInputException("invalid input in $: -1 is not a value this method takes");
        if (values.Any(v => v < 0))
            throw new InvalidOperationException("a negative value broke the batch");
        return [.. values.Select(Math.Sqrt)];
    }

    /// <summary>NaN (which JSON cannot hold) for 0, so one output cannot be encoded.</summary>
    [RunnerMethod("inverse", Batchable = true)]
    public double[] Inverse(double[] values)
    {
        Calls.Add(values.Length);
        return [.. values.Select(v => v == 0 ? double.NaN : 1 / v)];
    }

    [RunnerMethod("wrong", Batchable = true)]
    public int[] Wrong(int[] values)
    {
        Calls.Add(values.Length);
        return new int[Math.Max(0, values.Length + Surplus)];
    }

    [RunnerMethod("null", Batchable = true)]
    public int[]? Null(int[] values)
    {
        Calls.Add(values.Length);
        return null;
    }

    [RunnerMethod("wait", Batchable = true)]
    public async Task<int[]> WaitForCancel(int[] values, CancellationToken cancellationToken)
    {
        Calls.Add(values.Length);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return values;
    }

    [RunnerMethod("single")]
    public int NotBatchable(int value) => value;
}

public sealed class BatchOfBytesRunner : Runner { [RunnerMethod(Batchable = true)] public byte[] M(byte[] b) => b; }
public sealed class BatchOfOneRunner : Runner { [RunnerMethod(Batchable = true)] public int M(int b) => b; }
public sealed class BatchReturningOneRunner : Runner { [RunnerMethod(Batchable = true)] public int M(int[] b) => b.Length; }
public sealed class BatchReturningStringRunner : Runner { [RunnerMethod(Batchable = true)] public string M(string[] b) => ""; }
public sealed class BatchEnumerableRunner : Runner { [RunnerMethod(Batchable = true)] public int[] M(IEnumerable<int> b) => [.. b]; }
public sealed class BatchVoidRunner : Runner { [RunnerMethod(Batchable = true)] public Task M(int[] b) => Task.CompletedTask; }
public sealed class BatchSizeZeroRunner : Runner { [RunnerMethod(Batchable = true, MaxBatchSize = 0)] public int[] M(int[] b) => b; }
public sealed class BatchSizeHugeRunner : Runner { [RunnerMethod(Batchable = true, MaxBatchSize = 4097)] public int[] M(int[] b) => b; }
public sealed class BatchLatencyNegativeRunner : Runner { [RunnerMethod(Batchable = true, MaxLatencyMs = -1)] public int[] M(int[] b) => b; }
public sealed class BatchTwoListsRunner : Runner { [RunnerMethod(Batchable = true)] public int[] M(int[] a, int[] b) => a; }
