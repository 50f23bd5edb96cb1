using System.Collections;

namespace Serving.Cmdlets;

/// <summary>Probed or assumed platform facts, evaluated by the rules.</summary>
internal static class PlatformSource
{
    public static PlatformInfo Resolve(Hashtable? assume) =>
        PlatformRules.Evaluate(assume is null
            ? PlatformProbe.Probe()
            : PlatformFacts.FromAssumptions((IDictionary)PowerShellValues.Unwrap(assume)!));
}
