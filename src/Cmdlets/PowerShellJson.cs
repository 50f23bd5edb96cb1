using System.Collections.ObjectModel;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// JSON as PowerShell's own ConvertTo-Json / ConvertFrom-Json write and read it, so Invoke-ServingApi's bodies and
/// results look like Invoke-RestMethod's. The cmdlets compile against PowerShell Standard, which lacks their
/// implementation (JsonObject), so the commands are run, module-qualified so no user function stands in for them.
/// </summary>
internal static class PowerShellJson
{
    private static readonly ScriptBlock ToJson =
        ScriptBlock.Create("param($value) Microsoft.PowerShell.Utility\\ConvertTo-Json -InputObject $value -Depth 100 -Compress");

    private static readonly ScriptBlock FromJson =
        ScriptBlock.Create("param($json) Microsoft.PowerShell.Utility\\ConvertFrom-Json -InputObject $json");

    /// <summary>One compact JSON text for a hashtable, PSObject, array or scalar.</summary>
    public static string Serialize(object value) =>
        ToJson.Invoke(value) is { Count: 1 } result && result[0]?.BaseObject is string json
            ? json
            : throw new InvalidOperationException("ConvertTo-Json gave no text.");

    /// <summary>The objects ConvertFrom-Json makes of a JSON text: an array's elements one by one, as it writes them.</summary>
    public static Collection<PSObject> Deserialize(string json) => FromJson.Invoke(json);
}
