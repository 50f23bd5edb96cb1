namespace Serving.Runtime.Planning;

/// <summary>
/// The sentences that say how a plan's defaults were chosen (<see cref="HostPlan.Explanations"/>,
/// written with -Verbose) and the warning for a default address that opens the API to the network.
/// </summary>
internal static class PlanExplanations
{
    public static string ListenAddress(string address, bool given, PlatformInfo platform)
    {
        if (given) return $"Listen address {address}: given by -HostAddress.";
        return platform.IsContainer
            ? $"Listen address {address} (all interfaces): -HostAddress was not given and this is a container " +
              $"({ContainerFinding(platform)}); a loopback address could not be reached through the container's published port."
            : $"Listen address {address} (this machine only): -HostAddress was not given and this is not a container " +
              $"({ContainerFinding(platform)}).";
    }

    public static string AllInterfacesWarning(string address, PlatformInfo platform) =>
        $"The API listens on all interfaces ({address}), not only on this machine: this is a container " +
        $"({ContainerFinding(platform)}), and a loopback address could not be reached through the container's published port. " +
        "Anyone who can reach this port can call the API. To keep it local, use -HostAddress 127.0.0.1.";

    public static string Respawn(RespawnChoice choice, bool respawn, PlatformInfo platform) => choice switch
    {
        RespawnChoice.Always => "Respawn on: -Respawn Always.",
        RespawnChoice.Never => "Respawn off: -Respawn Never; a worker that exits ends the host (Failed).",
        _ when respawn =>
            $"Respawn on: -Respawn Auto and this is not a container ({ContainerFinding(platform)}); crashed workers are restarted with backoff.",
        _ => $"Respawn off: -Respawn Auto and this is a container ({ContainerFinding(platform)}); crashed workers are not restarted " +
             "here: a worker that exits ends the host (Failed, exit code 1 under -Wait), so the container's orchestrator restarts it. -Respawn Always overrides.",
    };

    /// <summary>Why the platform is, or is not, a container: the evidence, and the override when it decided.</summary>
    public static string ContainerFinding(PlatformInfo platform)
    {
        string? overrideEntry = null;
        var found = new List<string>();
        foreach (var entry in platform.ContainerEvidence)
        {
            if (entry.StartsWith(PlatformRules.ContainerOverrideEvidencePrefix, StringComparison.Ordinal)) overrideEntry = entry;
            else found.Add(entry);
        }
        var evidence = string.Join(", ", found);
        if (overrideEntry is null)
            return found.Count > 0 ? "evidence: " + evidence : "no container evidence found";
        var setting = overrideEntry["env:".Length..];
        return found.Count > 0 ? $"{setting} overrides the evidence: {evidence}" : setting;
    }
}
