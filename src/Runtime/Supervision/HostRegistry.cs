namespace Serving.Runtime.Supervision;

/// <summary>The hosts of this process (this pwsh session), for Get-ServingHost and Stop-ServingHost.</summary>
public static class HostRegistry
{
    private static readonly object Gate = new();
    private static readonly List<ServingHost> Hosts = new();
    /// <summary>Every host of the session, stopped ones included until their job is removed.</summary>
    public static IReadOnlyList<ServingHost> All()
    {
        lock (Gate) return Hosts.ToArray();
    }

    /// <summary>A free name: the requested one (an error if a live host has it), else service, service-2, ...</summary>
    public static string ChooseName(string? requested, string service)
    {
        lock (Gate)
        {
            if (!string.IsNullOrEmpty(requested))
            {
                if (Hosts.Any(h => IsLive(h) && string.Equals(h.Name, requested, StringComparison.OrdinalIgnoreCase)))
                    throw new ServingException(ErrorIds.HostNameInUse, ServingErrorKind.ResourceExists,
                        $"A host named '{requested}' is already running in this session. Stop it (Stop-ServingHost -Name {requested}) or choose another -Name.",
                        requested);
                return requested;
            }
            for (var n = 1; ; n++)
            {
                var name = n == 1 ? service : $"{service}-{n}";
                if (!Hosts.Any(h => IsLive(h) && string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase))) return name;
            }
        }
    }

    /// <summary>The hosts neither stopped nor failed, in the order they started.</summary>
    public static IReadOnlyList<ServingHost> Live()
    {
        lock (Gate) return Hosts.Where(IsLive).ToArray();
    }

    public static void Add(ServingHost host)
    {
        lock (Gate)
        {
            // A stopped host of the same name is replaced: names identify live hosts.
            Hosts.RemoveAll(h => !IsLive(h) && string.Equals(h.Name, host.Name, StringComparison.OrdinalIgnoreCase));
            Hosts.Add(host);
        }
    }

    public static void Remove(ServingHost host)
    {
        lock (Gate) Hosts.Remove(host);
    }

    private static bool IsLive(ServingHost h) => h.State is not (HostState.Stopped or HostState.Failed);
}
