using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>Finds the hosts of this session by name (wildcards), id, or a piped object.</summary>
internal static class HostSelection
{
    public static IEnumerable<ServingHost> ByName(string[]? names, out List<string> unmatched)
    {
        unmatched = new List<string>();
        var all = HostRegistry.All();
        if (names is null || names.Length == 0) return all;
        var found = new List<ServingHost>();
        foreach (var name in names)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = all.Where(h => pattern.IsMatch(h.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) unmatched.Add(name);
            foreach (var m in matches) if (!found.Contains(m)) found.Add(m);
        }
        return found;
    }

    public static IEnumerable<ServingHost> ById(int[] ids, out List<string> unmatched)
    {
        unmatched = new List<string>();
        var all = HostRegistry.All();
        var found = new List<ServingHost>();
        foreach (var id in ids)
        {
            var host = all.FirstOrDefault(h => h.Id == id);
            if (host is null) unmatched.Add(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            else if (!found.Contains(host)) found.Add(host);
        }
        return found;
    }

    /// <summary>
    /// The hosts a cmdlet's selection parameters name: <paramref name="ids"/> in the "Id" parameter set, the piped
    /// <paramref name="items"/> in "InputObject", else <paramref name="names"/> (wildcards; none: every host). A name
    /// or id that matches no host, and a piped object that is not one, is a non-terminating error written to
    /// <paramref name="cmdlet"/>, after which <paramref name="onMissing"/> is called. Piped objects are resolved as
    /// they are enumerated.
    /// </summary>
    public static IEnumerable<ServingHost> Select(Cmdlet cmdlet, string parameterSet, string[]? names, int[] ids, PSObject[] items,
        Action? onMissing = null)
    {
        if (parameterSet == "InputObject") return FromObjects(cmdlet, items, onMissing);
        List<string> unmatched;
        var hosts = parameterSet == "Id" ? ById(ids, out unmatched) : ByName(names, out unmatched);
        foreach (var missing in unmatched)
        {
            cmdlet.WriteError(NotFound(parameterSet == "Id" ? $"with id {missing}" : $"named '{missing}'"));
            onMissing?.Invoke();
        }
        return hosts;
    }

    private static IEnumerable<ServingHost> FromObjects(Cmdlet cmdlet, PSObject[] items, Action? onMissing)
    {
        foreach (var item in items)
        {
            if (FromObject(item) is { } host)
            {
                yield return host;
                continue;
            }
            cmdlet.WriteError(ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.InvalidArgument,
                $"'{item}' is not a serving host: pipe objects from Get-ServingHost or Start-ServingHost.", item));
            onMissing?.Invoke();
        }
    }

    /// <summary>A HostInfo, a ServingHostJob or a ServingHost from the pipeline.</summary>
    public static ServingHost? FromObject(object? value) => (value is PSObject p ? p.BaseObject : value) switch
    {
        ServingHost host => host,
        ServingHostJob job => job.Host,
        HostInfo info => HostRegistry.All().FirstOrDefault(h => h.Id == info.Id),
        _ => null,
    };

    /// <summary>
    /// The session's one live host, for a cmdlet given no host. Several are a terminating HostAmbiguous error on
    /// <paramref name="cmdlet"/>, listing each (name, id, url) and how to choose: acting on one at random, or on all,
    /// is not what a bare command should guess. None is the terminating error <paramref name="none"/> makes, or
    /// null when it is null (the caller has nothing to do).
    /// </summary>
    public static ServingHost? OnlyLive(PSCmdlet cmdlet, Func<ErrorRecord>? none)
    {
        var live = HostRegistry.Live();
        if (live.Count == 1) return live[0];
        if (live.Count == 0)
        {
            if (none is not null) cmdlet.ThrowTerminatingError(none());
            return null;
        }
        var command = cmdlet.MyInvocation.MyCommand.Name;
        var list = string.Join(", ", live.Select(h => $"'{h.Name}' (Id {h.Id}, {h.Url})"));
        var first = live[0];
        cmdlet.ThrowTerminatingError(ErrorRecords.From(ErrorIds.HostAmbiguous, ErrorCategory.InvalidArgument,
            $"{command} was given no host, and {live.Count} are running in this session: {list}. Choose one with " +
            $"-Name (e.g. {command} -Name {first.Name}), -Id (-Id {first.Id}) or by piping it (Get-ServingHost {first.Name} | {command}).",
            live.Select(h => h.Name).ToArray()));
        return null; // not reached: ThrowTerminatingError throws
    }

    public static ErrorRecord NotFound(string what) => ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
        $"No serving host {what} exists in this session. Get-ServingHost lists them.", what);
}
