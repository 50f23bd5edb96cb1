using System.Collections;
using System.Collections.ObjectModel;

namespace Serving.Runtime.Platform;

/// <summary>
/// The raw facts the platform rules are computed from. The probe reads them from the machine;
/// <see cref="FromAssumptions"/> builds them from a user's hashtable so every rule can be
/// exercised on any OS. Nothing here interprets the facts; <see cref="PlatformRules"/> does.
/// </summary>
public sealed class PlatformFacts
{
    /// <summary>The files the rules look at; the probe reads exactly these.</summary>
    public static readonly IReadOnlyList<string> WatchedFiles = new[]
    {
        "/.dockerenv",
        "/run/.containerenv",
        "/run/systemd/container",
        "/proc/self/cgroup",
        "/proc/self/mountinfo",
        "/sys/fs/cgroup/cpu.max",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
    };

    /// <summary>The keys -Assume accepts, in the order the error message lists them.</summary>
    public static readonly IReadOnlyList<string> AssumptionKeys = new[]
    {
        "OS", "KernelRelease", "Architecture", "Environment", "Files", "ProcessorCount", "CpuQuota", "TempDirectory",
    };

    public OSKind OS { get; init; } = OSKind.Unknown;

    /// <summary>The name the OS was detected as, kept for the "unsupported platform" message.</summary>
    public string OSName { get; init; } = "unknown";

    public string KernelRelease { get; init; } = "";

    public string Architecture { get; init; } = "Unknown";

    /// <summary>Environment variables (only presence and value matter).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = Empty;

    /// <summary>Path → content of the watched files that exist. A file that exists but is unreadable maps to "".</summary>
    public IReadOnlyDictionary<string, string> Files { get; init; } = Empty;

    /// <summary>Logical processors the OS reports (before any cgroup quota).</summary>
    public int ProcessorCount { get; init; } = 1;

    /// <summary>A CPU quota in cgroup v2 <c>cpu.max</c> form ("quota period" or "max period"), or null.</summary>
    public string? CpuQuota { get; init; }

    public string TempDirectory { get; init; } = "";

    /// <summary>True when these facts were assumed, not probed.</summary>
    public bool IsAssumed { get; init; }

    private static readonly IReadOnlyDictionary<string, string> Empty =
        new ReadOnlyDictionary<string, string>(new Dictionary<string, string>());

    /// <summary>
    /// Builds facts from assumptions only: anything not given is absent, nothing is probed.
    /// Values must already be plain .NET values (the cmdlet unwraps PSObjects).
    /// </summary>
    /// <exception cref="ServingException">An unknown key or a value of the wrong shape (ErrorId InvalidAssumption).</exception>
    public static PlatformFacts FromAssumptions(IDictionary assumptions)
    {
        ArgumentNullException.ThrowIfNull(assumptions);
        var os = OSKind.Unknown;
        string osName = "unknown";
        string kernel = "", arch = "Unknown", temp = "";
        string? quota = null;
        int processors = 1;
        IReadOnlyDictionary<string, string> env = Empty, files = Empty;
        var osGiven = false;

        foreach (DictionaryEntry entry in assumptions)
        {
            var key = entry.Key?.ToString() ?? "";
            var value = entry.Value;
            switch (Canonical(key))
            {
                case "OS":
                    osName = AsString(key, value);
                    os = ParseOS(osName);
                    osGiven = true;
                    break;
                case "KernelRelease": kernel = AsString(key, value); break;
                case "Architecture": arch = AsString(key, value); break;
                case "TempDirectory": temp = AsString(key, value); break;
                case "CpuQuota": quota = AsString(key, value); break;
                case "ProcessorCount":
                    processors = AsInt(key, value);
                    if (processors < 1)
                        throw Invalid($"-Assume ProcessorCount must be 1 or more; got {processors}.", key);
                    break;
                case "Environment": env = AsMap(key, value); break;
                case "Files":
                    files = AsMap(key, value);
                    foreach (var path in files.Keys)
                        if (!WatchedFiles.Contains(path))
                            throw Invalid(
                                $"-Assume Files names '{path}', which the platform rules do not read. Files they read: {string.Join(", ", WatchedFiles)}.", key);
                    break;
                default:
                    throw Invalid(
                        $"-Assume has an unknown key '{key}'. Valid keys: {string.Join(", ", AssumptionKeys)}.", key);
            }
        }

        if (temp.Length == 0)
            temp = os == OSKind.Windows ? @"C:\Windows\Temp" : "/tmp";

        return new PlatformFacts
        {
            OS = os,
            OSName = osGiven ? osName : "unknown (not assumed)",
            KernelRelease = kernel,
            Architecture = arch,
            Environment = env,
            Files = files,
            ProcessorCount = processors,
            CpuQuota = quota,
            TempDirectory = temp,
            IsAssumed = true,
        };
    }

    /// <summary>Maps an OS name as a user would write it to <see cref="OSKind"/>.</summary>
    public static OSKind ParseOS(string name) => name.Trim().ToLowerInvariant() switch
    {
        "linux" => OSKind.Linux,
        "windows" or "win32" or "win" => OSKind.Windows,
        "macos" or "osx" or "darwin" or "mac" => OSKind.MacOS,
        "freebsd" => OSKind.FreeBSD,
        _ => OSKind.Unknown,
    };

    private static string? Canonical(string key)
    {
        foreach (var k in AssumptionKeys)
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
                return k;
        return null;
    }

    private static ServingException Invalid(string message, string key) =>
        new(ErrorIds.InvalidAssumption, ServingErrorKind.InvalidArgument, message, key);

    private static string AsString(string key, object? value) => value switch
    {
        null => "",
        string s => s,
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ when value is not IDictionary && value is not IEnumerable => value.ToString() ?? "",
        _ => throw Invalid($"-Assume {key} must be a string; got {value.GetType().Name}.", key),
    };

    private static int AsInt(string key, object? value)
    {
        try
        {
            return Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ServingException(ErrorIds.InvalidAssumption, ServingErrorKind.InvalidArgument,
                $"-Assume {key} must be an integer; got '{value}'.", key, e);
        }
    }

    private static IReadOnlyDictionary<string, string> AsMap(string key, object? value)
    {
        if (value is null) return Empty;
        if (value is not IDictionary dict)
            throw Invalid($"-Assume {key} must be a hashtable (name = value); got {value.GetType().Name}.", key);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in dict)
            map[e.Key?.ToString() ?? ""] = e.Value?.ToString() ?? "";
        return new ReadOnlyDictionary<string, string>(map);
    }
}
