namespace Serving;

/// <summary>Everything needed to start one worker process (again, on respawn).</summary>
public sealed class WorkerSpec
{
    public WorkerRole Role { get; init; }
    /// <summary>"api-1", "echo-2", "dev-1".</summary>
    public string Name { get; init; } = "";
    /// <summary>The runner a runner worker hosts.</summary>
    public string? Runner { get; init; }
    public int Index { get; init; }
    public string Endpoint { get; init; } = "";
    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>A listening socket the worker inherits (its fd number is in <see cref="Arguments"/>).</summary>
    public Listener? InheritedListener { get; init; }
}

/// <summary>A started worker process, as the supervisor sees it. Faked in tests.</summary>
public interface IWorkerProcess : IDisposable
{
    int Pid { get; }

    /// <summary>Completes with the exit code when the process has exited.</summary>
    Task<int> Exited { get; }

    /// <summary>Writes one line to the worker's stdin (its lifeline and command channel).</summary>
    void SendLine(string line);

    /// <summary>Kills the process (and anything it started) at once.</summary>
    void Kill();
}

/// <summary>Receives what a worker prints.</summary>
public interface IWorkerOutput
{
    void OnLine(string line, bool isError);
}

/// <summary>Starts worker processes. The real one spawns Serving.Worker; tests pass fakes.</summary>
public interface IWorkerLauncher
{
    IWorkerProcess Start(WorkerSpec spec, IWorkerOutput output);
}
