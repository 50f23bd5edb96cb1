using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Serving.Cmdlets;

/// <summary>Tab completion of -Service: .psd1 manifests and directories under the typed path.</summary>
public sealed class ServiceManifestCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var dir = Path.GetDirectoryName(word);
        // Relative to PowerShell's location, not the process's working directory.
        var here = CurrentLocation();
        var searchIn = Path.Combine(here, string.IsNullOrEmpty(dir) ? "." : dir);
        if (!Directory.Exists(searchIn)) yield break;
        var prefix = Path.GetFileName(word);
        var entries = Directory.EnumerateDirectories(searchIn, prefix + "*")
            .Concat(Directory.EnumerateFiles(searchIn, prefix + "*.psd1"))
            .OrderBy(p => p, StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            var shown = string.IsNullOrEmpty(dir) ? Path.GetFileName(entry) : Path.Combine(dir, Path.GetFileName(entry));
            var text = shown.IndexOf(' ') >= 0 ? $"'{shown}'" : shown;
            yield return new CompletionResult(text, Path.GetFileName(entry),
                Directory.Exists(entry) ? CompletionResultType.ProviderContainer : CompletionResultType.ProviderItem, entry);
        }
    }

    private static string CurrentLocation()
    {
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        var location = ps.AddCommand("Microsoft.PowerShell.Management\\Get-Location").Invoke<PathInfo>().FirstOrDefault();
        return location?.Provider.Name == "FileSystem" ? location.ProviderPath : Environment.CurrentDirectory;
    }
}
