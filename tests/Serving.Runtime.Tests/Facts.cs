using System.Collections;

namespace Serving.Runtime.Tests;

/// <summary>Builds assumed platform facts the way Get-ServingPlatform -Assume does.</summary>
internal static class Facts
{
    public static PlatformFacts Of(string os, string kernel = "", IDictionary? files = null, IDictionary? env = null,
        int? cpus = null, string? quota = null, string? temp = null)
    {
        var h = new Hashtable { ["OS"] = os, ["KernelRelease"] = kernel };
        if (files != null) h["Files"] = files;
        if (env != null) h["Environment"] = env;
        if (cpus != null) h["ProcessorCount"] = cpus;
        if (quota != null) h["CpuQuota"] = quota;
        if (temp != null) h["TempDirectory"] = temp;
        return PlatformFacts.FromAssumptions(h);
    }

    public static PlatformInfo Info(string os, string kernel = "", IDictionary? files = null, IDictionary? env = null,
        int? cpus = null, string? quota = null, string? temp = null) =>
        PlatformRules.Evaluate(Of(os, kernel, files, env, cpus, quota, temp));

    public static ServiceDefinition Demo { get; } = new()
    {
        Name = "demo",
        Runners = new[]
        {
            new RunnerDefinition { Name = "echo", Type = "Serving.Demo.EchoRunner", Workers = 1 },
            new RunnerDefinition { Name = "classifier", Type = "Serving.Demo.IrisClassifierRunner", Workers = 1 },
        },
        Apis = new[]
        {
            new ApiDefinition { Route = "/echo", Runner = "echo", Method = "echo" },
            new ApiDefinition { Route = "/classify", Runner = "classifier", Method = "classify" },
        },
    };
}
