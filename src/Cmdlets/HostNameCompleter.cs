using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Serving.Cmdlets;

/// <summary>Tab completion of the names of this session's hosts.</summary>
public sealed class HostNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var host in HostRegistry.All())
        {
            if (!pattern.IsMatch(host.Name)) continue;
            var text = host.Name.IndexOfAny(new[] { ' ', '\'', '"' }) >= 0 ? $"'{host.Name}'" : host.Name;
            yield return new CompletionResult(text, host.Name, CompletionResultType.ParameterValue, $"{host.Name}: {host.State} {host.Url}");
        }
    }
}
