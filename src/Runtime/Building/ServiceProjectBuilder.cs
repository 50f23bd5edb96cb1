using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Serving.Runtime.Building;

/// <summary>
/// Builds a manifest's <c>Project</c> (<c>dotnet build -c Release</c>) and hands back the service with the built
/// assembly among its <see cref="ServiceDefinition.Assemblies"/>, before anything verifies or serves it. Each build
/// goes to a directory of its own under the project's <c>obj/serving/</c>: a generation still serving keeps the
/// files it loaded (a rebuild never overwrites an assembly a worker has mapped), and obj/ is not watched by
/// <c>-Reload</c>, so a build's output does not trigger another reload. The one part of the runtime besides
/// Supervision that starts a process.
/// </summary>
public static class ServiceProjectBuilder
{
    /// <summary>Builds kept per project: the newest ones (the serving generation's and the one before), older ones deleted.</summary>
    public const int BuildsKept = 3;

    /// <summary>The most compiler errors a failure names (the rest are in the build's own output).</summary>
    public const int ErrorsShown = 5;

    private static readonly Regex ErrorLine = new(@":\s*error\s+[A-Z]+\d+\s*:", RegexOptions.CultureInvariant);
    private static readonly Regex WarningLine = new(@":\s*warning\s+[A-Z]+\d+\s*:", RegexOptions.CultureInvariant);

    /// <summary>
    /// The level of a line of a build's output, as MSBuild means it: its "file(line,col): error CS0103: …" lines (the
    /// ones a failure names) and "Build FAILED." are errors, "…: warning CS8618: …" lines warnings, the rest
    /// information. A reload's build lines are logged at it, so Get-ServingLog -Level Warning finds why a reload did
    /// not happen.
    /// </summary>
    public static LogLevel LineLevel(string line) =>
        ErrorLine.IsMatch(line) || line.Trim() == "Build FAILED." ? LogLevel.Error
        : WarningLine.IsMatch(line) ? LogLevel.Warning
        : LogLevel.Information;

    /// <summary>
    /// Builds <paramref name="service"/>'s project when it has one (else returns it as it is), writing the command,
    /// each line of the build's output and, when it built, the assembly and the time it took to <paramref name="output"/>. Throws <see cref="ServingException"/>
    /// (<see cref="ErrorIds.ServiceBuildFailed"/>) with the compiler's first errors when it does not build.
    /// <paramref name="abstractions"/>, the running module's Serving.Abstractions.dll, is given to the build as the
    /// <c>ServingAbstractions</c> property New-ServingService's projects reference it by: such a project compiles
    /// against the contract its workers load, also after the module was upgraded or moved (a property the project
    /// does not use changes nothing).
    /// </summary>
    public static ServiceDefinition Build(ServiceDefinition service, Action<string>? output = null, TimeSpan? timeout = null, string? abstractions = null)
    {
        if (service.Project is not { } project) return service;
        var projectDirectory = Path.GetDirectoryName(project)!;
        var builds = Path.Combine(projectDirectory, "obj", "serving");
        var outputDirectory = Path.Combine(builds, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fffffff", System.Globalization.CultureInfo.InvariantCulture));
        output?.Invoke($"dotnet build {project} -c Release");
        var clock = Stopwatch.StartNew();
        var lines = Run(project, outputDirectory, abstractions, output, timeout ?? TimeSpan.FromMinutes(5), out var exitCode);
        if (exitCode != 0)
        {
            var errors = lines.Where(l => ErrorLine.IsMatch(l)).Select(l => l.Trim()).Distinct().Take(ErrorsShown).ToList();
            var detail = errors.Count > 0 ? string.Join(Environment.NewLine, errors) : string.Join(Environment.NewLine, lines.TakeLast(ErrorsShown));
            throw new ServingException(ErrorIds.ServiceBuildFailed, ServingErrorKind.InvalidData,
                $"The service's project '{project}' did not build (dotnet build exit code {exitCode}):{Environment.NewLine}{detail}", project);
        }
        var assembly = Path.Combine(outputDirectory, AssemblyName(project) + ".dll");
        if (!File.Exists(assembly))
            throw new ServingException(ErrorIds.ServiceBuildFailed, ServingErrorKind.InvalidData,
                $"The service's project '{project}' built, but '{assembly}' is not there: is it a class library, and is its AssemblyName set in the project file itself?",
                project);
        DeleteOldBuilds(builds, outputDirectory);
        output?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"built {assembly} in {clock.Elapsed.TotalSeconds:0.0} s"));
        return service with { Assemblies = [assembly, .. service.Assemblies] };
    }

    /// <summary>The project's assembly name: its <c>AssemblyName</c> property when the file sets one, else the file's name.</summary>
    public static string AssemblyName(string project)
    {
        try
        {
            var name = XDocument.Load(project).Descendants().FirstOrDefault(e => e.Name.LocalName == "AssemblyName")?.Value.Trim();
            if (!string.IsNullOrEmpty(name) && !name.Contains("$(", StringComparison.Ordinal)) return name;
        }
        catch (System.Xml.XmlException)
        {
            // dotnet build said what is wrong with the file; the name falls back to the file's.
        }
        return Path.GetFileNameWithoutExtension(project);
    }

    private static List<string> Run(string project, string outputDirectory, string? abstractions, Action<string>? output, TimeSpan timeout, out int exitCode)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var argument in new[] { "build", project, "-c", "Release", "-o", outputDirectory, "-nologo", "-v:m", "-clp:NoSummary" })
            start.ArgumentList.Add(argument);
        if (abstractions is not null) start.ArgumentList.Add("-p:ServingAbstractions=" + abstractions);
        // No terminal logger or colours in captured output.
        start.Environment["MSBUILDTERMINALLOGGER"] = "off";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        var lines = new List<string>();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ServingException(ErrorIds.ServiceBuildFailed, ServingErrorKind.ResourceUnavailable,
                $"Cannot run '{start.FileName} build' for '{project}': {e.Message}. The .NET SDK must be installed to build a service's Project.", project, e);
        }
        using (process)
        {
            // stderr is collected on its own; stdout is read here, so output is called on the caller's thread (a
            // cmdlet writes it as progress, which only its pipeline thread may). A build past its time is killed,
            // which ends the reading.
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
            process.BeginErrorReadLine();
            var timedOut = false;
            using (new Timer(_ =>
            {
                timedOut = true;
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }, null, timeout, Timeout.InfiniteTimeSpan))
            {
                while (process.StandardOutput.ReadLine() is { } line)
                {
                    lock (lines) lines.Add(line);
                    output?.Invoke(line);
                }
                process.WaitForExit();
            }
            if (timedOut)
                throw new ServingException(ErrorIds.ServiceBuildFailed, ServingErrorKind.OperationTimeout,
                    $"Building '{project}' took longer than {timeout.TotalMinutes:0.#} minutes; it was stopped.", project);
            exitCode = process.ExitCode;
        }
        lock (lines) return lines.ToList();
    }

    /// <summary>The dotnet host: the one running us when it is dotnet (pwsh as a .NET tool), else DOTNET_HOST_PATH, else dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    private static void DeleteOldBuilds(string builds, string newest)
    {
        try
        {
            foreach (var old in Directory.GetDirectories(builds).Where(d => d != newest).OrderDescending(StringComparer.Ordinal).Skip(BuildsKept - 1))
            {
                // On Linux and macOS a deleted file stays readable to whoever mapped it; on Windows a loaded one is locked and stays.
                try { Directory.Delete(old, recursive: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
