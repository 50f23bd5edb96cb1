using System.Collections.Concurrent;

namespace Serving.Runtime.Tests;

/// <summary>A worker process that exists only in memory: the test decides when it is ready and how it exits.</summary>
internal sealed class FakeProcess : IWorkerProcess
{
    private static int _nextPid = 50_000;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeProcess(WorkerSpec spec, IWorkerOutput output)
    {
        Spec = spec;
        Output = output;
        Pid = Interlocked.Increment(ref _nextPid);
    }

    public WorkerSpec Spec { get; }
    public IWorkerOutput Output { get; }
    public int Pid { get; }
    public Task<int> Exited => _exited.Task;
    public ConcurrentQueue<string> Received { get; } = new();
    public bool Killed { get; private set; }
    /// <summary>What the process does when told "stop": exit 0 (default) or ignore it.</summary>
    public bool IgnoresStop { get; set; }
    /// <summary>Whether it says "@@serving not-accepting" when told "stop-accepting" (as a worker does once its sockets are closed).</summary>
    public bool AcknowledgesStopAccepting { get; set; } = true;

    public void Ready() => Output.OnLine(WorkerStatusLines.Ready, false);
    public void NotAccepting() => Output.OnLine(WorkerStatusLines.NotAccepting, false);
    public void Print(string line) => Output.OnLine(line, false);
    public void PrintError(string line) => Output.OnLine(line, true);
    public void Exit(int code) => _exited.TrySetResult(code);

    private static int _sequence;

    /// <summary>When this process was told to stop, in order across all fakes (0 = never).</summary>
    public int StopSequence { get; private set; }

    public void SendLine(string line)
    {
        Received.Enqueue(line);
        // "stop" or "stop SECONDS"; not "stop-accepting", after which a worker goes on serving what it has.
        var stop = line == "stop" || line.StartsWith("stop ", StringComparison.Ordinal);
        if (stop) StopSequence = Interlocked.Increment(ref _sequence);
        if (stop && !IgnoresStop) Exit(0);
        if (line == "stop-accepting" && AcknowledgesStopAccepting) Task.Run(NotAccepting);
    }

    public void Kill()
    {
        Killed = true;
        Exit(137);
    }

    public void Dispose() { }
}

/// <summary>Starts <see cref="FakeProcess"/>es; by default each reports ready at once.</summary>
internal sealed class FakeLauncher : IWorkerLauncher
{
    public ConcurrentQueue<FakeProcess> Started { get; } = new();
    public Func<WorkerSpec, bool> AutoReady { get; set; } = _ => true;
    public Action<FakeProcess>? OnStart { get; set; }

    public IWorkerProcess Start(WorkerSpec spec, IWorkerOutput output)
    {
        var p = new FakeProcess(spec, output);
        Started.Enqueue(p);
        OnStart?.Invoke(p);
        if (AutoReady(spec)) Task.Run(p.Ready);
        return p;
    }

    public FakeProcess[] Live(string name) => Started.Where(p => p.Spec.Name == name && !p.Exited.IsCompleted).ToArray();
}

internal static class Poll
{
    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails after the deadline.</summary>
    public static async Task Until(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for: " + what);
            await Task.Delay(10);
        }
    }
}
