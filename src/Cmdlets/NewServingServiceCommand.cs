using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Creates a new service: a runner project, a sample batchable runner, its manifest and a Pester test.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "ServingService", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class NewServingServiceCommand : PSCmdlet
{
    /// <summary>The directory to create the service in (created if missing; it must not hold the files already unless -Force).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The service's name; default: the directory's name, lower-cased.</summary>
    [Parameter][ValidatePattern("^[a-z0-9][a-z0-9_-]{0,62}$")] public string? Name { get; set; }

    /// <summary>The runner's name; default: model.</summary>
    [Parameter][ValidatePattern("^[a-z0-9][a-z0-9_-]{0,62}$")] public string Runner { get; set; } = "model";

    /// <summary>Overwrite files that exist.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var name = Name ?? ServiceScaffold.NameFrom(System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory)));
        var files = ServiceScaffold.Files(name, Runner, ModuleFiles.Abstractions)
            .Select(f => (Full: System.IO.Path.Combine(directory, f.Path), f.Content))
            .ToList();
        var existing = files.Where(f => File.Exists(f.Full)).Select(f => f.Full).ToList();
        if (existing.Count > 0 && !Force)
            ThrowTerminatingError(ErrorRecords.From(ErrorIds.ServiceExists, ErrorCategory.ResourceExists,
                $"'{directory}' already holds {string.Join(", ", existing.Select(System.IO.Path.GetFileName))}. Choose another -Path, or add -Force to overwrite.",
                directory));
        // A second manifest would make the directory ambiguous to Start-ServingHost -Service.
        var otherManifests = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*.psd1").Where(p => !files.Any(f => f.Full == p)).ToList()
            : [];
        if (otherManifests.Count > 0)
            ThrowTerminatingError(ErrorRecords.From(ErrorIds.ServiceExists, ErrorCategory.ResourceExists,
                $"'{directory}' already holds a manifest ({string.Join(", ", otherManifests.Select(System.IO.Path.GetFileName))}). Choose an empty directory.",
                directory));
        if (!ShouldProcess(directory, $"Create service '{name}' (runner '{Runner}')"))
            return;
        foreach (var (full, content) in files)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content.ReplaceLineEndings());
            // Through the FileSystem provider, as Get-Item gives it: with the Mode, UnixMode, User, Group and
            // Size that its table view shows (a bare FileInfo has them blank) and the PSPath properties.
            WriteObject(InvokeProvider.Item.Get([full], force: true, literalPath: true), enumerateCollection: true);
        }
        WriteVerbose($"Serve it with: Start-ServingHost -Service '{directory}' (builds src/*.csproj first). Test it with: Invoke-Pester '{System.IO.Path.Combine(directory, "tests")}'.");
    }
}
