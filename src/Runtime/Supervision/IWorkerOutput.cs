namespace Serving.Runtime.Supervision;

/// <summary>Receives what a worker prints.</summary>
public interface IWorkerOutput
{
    void OnLine(string line, bool isError);
}
