using Serving.Abstractions;

namespace Serving.Demo;

/// <summary>Returns its input unchanged: the cheapest possible runner, for measuring the host's overhead.</summary>
public sealed class EchoRunner : Runner
{
    [RunnerMethod("echo")]
    public byte[] Echo(byte[] input) => input;
}
