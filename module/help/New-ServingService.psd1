@{
    Synopsis    = 'Creates a new service: a runner project, a sample batchable runner, its manifest and a Pester test.'
    Description = @'
Writes a service that builds and serves as it is: <Name>.psd1 (the manifest, naming the project with
Project = 'src/<Name>.Runners.csproj', one runner and one API, POST /predict), src/<Name>.Runners.csproj
(a net8.0 class library, nullable on, referencing Serving.Abstractions from this module's lib folder
without copying it: the worker provides it), src/<Runner>Runner.cs (a runner whose predict method is
batchable: MaxBatchSize 64, MaxLatencyMs 10), tests/<Name>.Tests.ps1 (a Pester 5 test that starts the
service on a free port, calls it and stops it) and .servingignore (tests/ never triggers a reload).

Start-ServingHost -Service <Path> builds the project (dotnet build -c Release; the .NET SDK is needed)
and serves what it built; with -Reload, saving a .cs file builds again and starts a new generation.
Files that exist are not overwritten unless -Force; a directory that already holds another manifest is
refused (ServiceExists). The created files are written to the pipeline as FileInfo objects.
'@
    Parameters  = @{
        Path   = 'The directory to create the service in; created when missing. Relative paths are resolved against the current location.'
        Name   = 'The service''s name (lower-case letters, digits, - and _; at most 63). Default: the directory''s name, lower-cased, other characters replaced by -.'
        Runner = 'The runner''s name (same rules as -Name). Default: model. Its class is <Runner>Runner in the namespace <Name>.Runners.'
        Force  = 'Overwrite the service''s files where they exist.'
    }
    Defaults    = @{
        Name   = @{ Text = 'the directory''s name, lower-cased' }
        Runner = 'model'
    }
    Outputs     = @{
        FileInfo = 'Each file written: the manifest, the project, the runner''s source, the Pester test and .servingignore.'
    }
    Examples    = @(
        @{ Code = "New-ServingService ./mysvc; Start-ServingHost -Service ./mysvc"; Remarks = 'Creates the service, then builds and serves it: Invoke-RestMethod http://127.0.0.1:3000/predict -Method Post -Body ''{"values":[1,2,3]}'' answers {"sum":6,"mean":2}.' }
        @{ Code = "New-ServingService ./fraud -Runner scorer; Invoke-Pester ./fraud/tests"; Remarks = 'A service named fraud with a runner scorer (class Fraud.Runners.ScorerRunner), tested with its own Pester test.' }
        @{ Code = "Start-ServingHost -Service ./mysvc -Reload"; Remarks = 'Serves it and rebuilds on every saved .cs file; a build that fails keeps the old generation serving and reports ReloadFailed.' }
    )
}
