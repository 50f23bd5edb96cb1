using System.Collections;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;

namespace Serving.Runtime.Platform;

/// <summary>Reads <see cref="PlatformFacts"/> from this machine. The only impure part of Platform.</summary>
public static class PlatformProbe
{
    public static PlatformFacts Probe()
    {
        var os = CurrentOS(out var osName);
        var env = new Dictionary<string, string>(os == OSKind.Windows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = e.Value?.ToString() ?? "";

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (os != OSKind.Windows)
        {
            foreach (var path in PlatformFacts.WatchedFiles)
            {
                if (!File.Exists(path)) continue;
                try { files[path] = File.ReadAllText(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { files[path] = ""; }
            }
        }

        return new PlatformFacts
        {
            OS = os,
            OSName = osName,
            KernelRelease = KernelRelease(os),
            Architecture = RuntimeInformation.OSArchitecture.ToString(),
            Environment = new ReadOnlyDictionary<string, string>(env),
            Files = new ReadOnlyDictionary<string, string>(files),
            // Environment.ProcessorCount already honours a cgroup quota on Linux; the rules cap it
            // again from the files, which is idempotent.
            ProcessorCount = Environment.ProcessorCount,
            TempDirectory = Path.GetTempPath().TrimEnd('/', '\\') is { Length: > 0 } t ? t : Path.GetTempPath(),
        };
    }

    private static OSKind CurrentOS(out string name)
    {
        name = RuntimeInformation.OSDescription;
        if (OperatingSystem.IsLinux()) return OSKind.Linux;
        if (OperatingSystem.IsWindows()) return OSKind.Windows;
        if (OperatingSystem.IsMacOS()) return OSKind.MacOS;
        if (OperatingSystem.IsFreeBSD()) return OSKind.FreeBSD;
        return OSKind.Unknown;
    }

    private static string KernelRelease(OSKind os)
    {
        if (os == OSKind.Linux)
        {
            try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        if (os == OSKind.Windows) return Environment.OSVersion.Version.ToString();
        // "Darwin 23.1.0 Darwin Kernel Version ..." / "FreeBSD 14.0-RELEASE ..." / "Linux 6.1.0 #1 SMP ..."
        var parts = RuntimeInformation.OSDescription.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 1 ? parts[1] : RuntimeInformation.OSDescription;
    }
}
