using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Serving.Cmdlets;

/// <summary>Turns PowerShell values (PSObject wrappers, .psd1 files) into plain .NET values for the runtime.</summary>
internal static class PowerShellValues
{
    /// <summary>Unwraps PSObjects, recursively through hashtables and arrays.</summary>
    public static object? Unwrap(object? value)
    {
        if (value is PSObject pso) value = pso.BaseObject;
        switch (value)
        {
            case IDictionary dict:
                var copy = new Hashtable(StringComparer.OrdinalIgnoreCase);
                foreach (DictionaryEntry e in dict) copy[Unwrap(e.Key) ?? ""] = Unwrap(e.Value);
                return copy;
            case string s:
                return s;
            case IEnumerable list:
                var items = new List<object?>();
                foreach (var item in list) items.Add(Unwrap(item));
                return items.ToArray();
            default:
                return value;
        }
    }

    /// <summary>
    /// Reads a .psd1 data file the way Import-PowerShellDataFile does: parsed, never executed,
    /// constant values only.
    /// </summary>
    public static IDictionary ReadDataFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.ObjectNotFound,
                $"The service manifest '{full}' does not exist. Pass -Service with the path of a .psd1 manifest (or its directory).", full);
        var ast = Parser.ParseFile(full, out _, out var errors);
        if (errors.Length > 0)
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                $"{full}: line {errors[0].Extent.StartLineNumber}: {errors[0].Message}", full);
        var hashtable = ast.Find(a => a is HashtableAst, searchNestedScriptBlocks: false) as HashtableAst;
        if (hashtable is null)
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                $"{full}: a service manifest must contain one hashtable @{{ Name = ...; Assemblies = ...; Runners = ...; Apis = ... }}.", full);
        try
        {
            return (IDictionary)Unwrap(hashtable.SafeGetValue())!;
        }
        catch (InvalidOperationException e)
        {
            throw new ServingException(ErrorIds.InvalidServiceManifest, ServingErrorKind.InvalidData,
                $"{full}: {e.Message} A manifest may hold only constant values (strings, numbers, arrays, hashtables).", full, e);
        }
    }
}
