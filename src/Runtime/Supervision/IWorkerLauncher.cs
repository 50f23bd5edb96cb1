namespace Serving.Runtime.Supervision;

/// <summary>Starts worker processes. The real one spawns Serving.Worker; tests pass fakes.</summary>
public interface IWorkerLauncher
{
    IWorkerProcess Start(WorkerSpec spec, IWorkerOutput output);
}
