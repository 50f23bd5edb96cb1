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

    /// <summary>A HostInfo, a ServingHostJob or a ServingHost from the pipeline.</summary>
    public static ServingHost? FromObject(object? value) => (value is PSObject p ? p.BaseObject : value) switch
    {
        ServingHost host => host,
        ServingHostJob job => job.Host,
        HostInfo info => HostRegistry.All().FirstOrDefault(h => h.Id == info.Id),
        _ => null,
    };

    public static ErrorRecord NotFound(string what) => ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
        $"No serving host {what} exists in this session. Get-ServingHost lists them.", what);
}
