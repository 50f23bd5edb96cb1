using Xunit;

namespace Serving.Runtime.Tests;

public class HostHealthTests
{
    private static readonly RunnerPlan[] Runners =
    [
        new RunnerPlan { Name = "echo", Workers = 2 },
        new RunnerPlan { Name = "classifier", Workers = 1 },
    ];

    private static WorkerInfo W(string name, WorkerState state) => new()
    {
        Name = name,
        Role = name.StartsWith("api", StringComparison.Ordinal) ? WorkerRole.Api : WorkerRole.Runner,
        Runner = name.StartsWith("api", StringComparison.Ordinal) ? "" : name[..name.IndexOf('-')],
        State = state,
    };

    [Fact]
    public void Every_worker_running_is_running()
    {
        var (state, reason) = HostHealth.Evaluate(Runners,
            [W("echo-1", WorkerState.Running), W("echo-2", WorkerState.Running), W("classifier-1", WorkerState.Running), W("api-1", WorkerState.Running)]);
        Assert.Equal((HostState.Running, ""), (state, reason));
    }

    [Fact]
    public void A_worker_down_is_degraded_naming_runners_without_a_running_worker_and_every_worker_down()
    {
        var (state, reason) = HostHealth.Evaluate(Runners,
            [W("echo-1", WorkerState.Backoff), W("echo-2", WorkerState.Running), W("classifier-1", WorkerState.Failed), W("api-1", WorkerState.Starting)]);
        Assert.Equal(HostState.Degraded, state);
        Assert.Equal("runner 'classifier' has no running worker; no API worker is running; not running: echo-1 (Backoff), classifier-1 (Failed), api-1 (Starting)", reason);
    }
}
