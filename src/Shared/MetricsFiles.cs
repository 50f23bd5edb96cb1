namespace Serving.Shared;

/// <summary>
/// Where a host's metrics live, agreed by the supervisor (which writes what only it knows) and the workers (each
/// writes its own segment; an API worker reads them all to answer /metrics): in the host's state directory.
/// </summary>
public static class MetricsFiles
{
    /// <summary>The metrics directory, next to host.json.</summary>
    public const string DirectoryName = "metrics";

    /// <summary>The supervisor's metrics in the Prometheus text format, replaced whole when they change.</summary>
    public const string HostFileName = "host.prom";

    /// <summary>A label value as the Prometheus text format wants it: backslash, quote and newline escaped.</summary>
    public static string EscapeLabelValue(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
