namespace Serving.Abstractions;

/// <summary>What a runner worker knows about itself when it initialises.</summary>
public sealed class RunnerContext
{
    public RunnerContext(string runnerName, int workerIndex, int workerCount, string serviceDirectory,
        IReadOnlyDictionary<string, string> environment, Action<string> log)
    {
        RunnerName = runnerName;
        WorkerIndex = workerIndex;
        WorkerCount = workerCount;
        ServiceDirectory = serviceDirectory;
        Environment = environment;
        Log = log;
    }

    /// <summary>The runner's name in the service manifest.</summary>
    public string RunnerName { get; }

    /// <summary>1-based index of this worker among the runner's workers.</summary>
    public int WorkerIndex { get; }

    /// <summary>How many workers this runner has.</summary>
    public int WorkerCount { get; }

    /// <summary>The directory holding the service manifest; resolve model files against it.</summary>
    public string ServiceDirectory { get; }

    /// <summary>The per-worker environment the manifest gave this worker (also set as process environment).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Writes one line to the worker's log (seen with Receive-Job).</summary>
    public Action<string> Log { get; }
}
