namespace Serving.Runtime.Supervision;

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
