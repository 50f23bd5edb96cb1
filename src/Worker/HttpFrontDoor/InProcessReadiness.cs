using System.Buffers;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>Dev role: the runners live in this process and were initialised before it listened.</summary>
internal sealed class InProcessReadiness(IEnumerable<string> runnerNames) : IReadinessSource
{
    private readonly ReadinessReport _report = new(
        runnerNames.Select(n => new RunnerReadiness(n, true, "SERVING")).ToArray(), 0);

    public ValueTask<ReadinessReport> GetAsync() => new(_report);
}
