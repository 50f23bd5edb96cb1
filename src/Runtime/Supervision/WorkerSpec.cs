namespace Serving.Runtime.Supervision;

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
