using System.Globalization;
using System.Text;

namespace Serving.Runtime.Scaffolding;

/// <summary>
/// The files of a new service (pure: names in, relative paths and contents out): a runner project that
/// references Serving.Abstractions from the module, a sample runner with a batchable method, the manifest that
/// names the project (Start-ServingHost builds it), and a Pester test. New-ServingService writes them.
/// </summary>
public static class ServiceScaffold
{
    /// <summary>The route, method and runner type the sample serves.</summary>
    public const string SampleMethod = "predict";

    /// <summary>
    /// The files for a service named <paramref name="name"/> with one runner <paramref name="runner"/>, whose project
    /// references <paramref name="abstractionsPath"/> (the module's lib/Serving.Abstractions.dll) unless the build
    /// is given another <c>ServingAbstractions</c> property.
    /// </summary>
    public static IReadOnlyList<(string Path, string Content)> Files(string name, string runner, string abstractionsPath)
    {
        var assembly = Pascal(name) + ".Runners";
        var type = Pascal(runner) + "Runner";
        return
        [
            (name + ".psd1", Manifest(name, runner, assembly, type)),
            ($"src/{assembly}.csproj", Project(assembly, abstractionsPath)),
            ($"src/{type}.cs", RunnerSource(assembly, type, runner)),
            ($"tests/{name}.Tests.ps1", PesterTest(name)),
            (".servingignore", "# Changes here never reload (Start-ServingHost -Reload); gitignore syntax.\ntests/\n"),
        ];
    }

    /// <summary>A service name as manifests take it (lower-case letters, digits, '-', '_'), from a directory name.</summary>
    public static string NameFrom(string directoryName)
    {
        var text = new StringBuilder();
        foreach (var c in directoryName.ToLowerInvariant())
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-');
        var name = text.ToString().Trim('-', '_');
        if (name.Length == 0 || !char.IsAsciiLetterOrDigit(name[0])) name = "svc" + (name.Length > 0 ? "-" + name : "");
        return name.Length > 63 ? name[..63] : name;
    }

    /// <summary>my-svc → MySvc: a C# identifier from a service or runner name.</summary>
    public static string Pascal(string name)
    {
        var text = new StringBuilder();
        foreach (var part in name.Split('-', '_', '.'))
            if (part.Length > 0) text.Append(char.ToUpperInvariant(part[0])).Append(part.AsSpan(1));
        var result = text.ToString();
        return result.Length > 0 && char.IsAsciiDigit(result[0]) ? "S" + result : result;
    }

    private static string Manifest(string name, string runner, string assembly, string type) => $$"""
        # The {{name}} service. Start-ServingHost builds the project below (dotnet build -c Release) and serves it;
        # with -Reload, saving a .cs file builds again and starts a new generation of workers.
        @{
            Name    = '{{name}}'
            Project = 'src/{{assembly}}.csproj'
            Runners = @(
                @{ Name = '{{runner}}'; Type = '{{assembly}}.{{type}}'; Workers = 1 }
            )
            Apis    = @(
                @{ Route = '/{{SampleMethod}}'; Runner = '{{runner}}'; Method = '{{SampleMethod}}' }
            )
        }

        """;

    private static string Project(string assembly, string abstractionsPath) => $$"""
        <Project Sdk="Microsoft.NET.Sdk">
          <!-- Runners for Serving. The worker that loads them runs on .NET 10; net8.0 keeps them loadable by older hosts too. -->
          <PropertyGroup>
            <TargetFramework>net8.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <AssemblyName>{{assembly}}</AssemblyName>
            <RootNamespace>{{assembly}}</RootNamespace>
            <!-- The module's copy of the runner contract; pass -p:ServingAbstractions=<path> to use another. -->
            <ServingAbstractions Condition="'$(ServingAbstractions)' == ''">{{abstractionsPath}}</ServingAbstractions>
          </PropertyGroup>
          <ItemGroup>
            <!-- Not copied: the worker provides Serving.Abstractions, so runner and host share one Runner type. -->
            <Reference Include="Serving.Abstractions" HintPath="$(ServingAbstractions)" Private="false" />
          </ItemGroup>
        </Project>

        """;

    private static string RunnerSource(string assembly, string type, string runner) => $$"""
        using Serving.Abstractions;

        namespace {{assembly}};

        /// <summary>The '{{runner}}' runner. Replace the sample with your model: load it in InitializeAsync, use it in Predict.</summary>
        public sealed class {{type}} : Runner
        {
            /// <summary>
            /// Batchable: concurrent requests (from every API worker) arrive here together, one list, and get one
            /// output each, in order. A request is {"values": [1, 2, 3]}; the answer {"sum": 6, "mean": 2}.
            /// </summary>
            [RunnerMethod("{{SampleMethod}}", Batchable = true, MaxBatchSize = 64, MaxLatencyMs = 10)]
            public Prediction[] Predict(IReadOnlyList<Features> inputs)
            {
                var outputs = new Prediction[inputs.Count];
                for (var i = 0; i < inputs.Count; i++)
                {
                    // Thrown for one input, it fails only that request, as a 400 with this message.
                    var values = inputs[i]?.Values ?? throw new RunnerInputException("invalid input in $: expected {\"values\": [numbers]}");
                    if (values.Length == 0) throw new RunnerInputException("invalid input in $.values: expected at least one number");
                    outputs[i] = new Prediction(values.Sum(), values.Average());
                }
                return outputs;
            }
        }

        /// <summary>One request's input.</summary>
        public sealed record Features(double[]? Values);

        /// <summary>One request's answer.</summary>
        public sealed record Prediction(double Sum, double Mean);

        """;

    private static string PesterTest(string name) => $$"""
        # Pester 5: Invoke-Pester ./tests. Use-ServingHost builds and starts the service on a free port, runs the
        # block, and always stops it, also when an assertion fails or the start itself does.
        BeforeAll {
            Import-Module Serving
            $script:ServiceDirectory = Split-Path $PSScriptRoot
        }

        Describe '{{name}}' {
            It 'answers {{SampleMethod}}, and refuses a bad input with InvalidInput' {
                Use-ServingHost -Service $ServiceDirectory -Name '{{name}}-test' {
                    param($h)
                    $answer = $h | Invoke-ServingApi /{{SampleMethod}} @{ values = 1, 2, 3 }
                    $answer.sum | Should -Be 6
                    $answer.mean | Should -Be 2
                    $h | Invoke-ServingApi /{{SampleMethod}} @{} -ErrorVariable problem -ErrorAction SilentlyContinue
                    $problem[0].FullyQualifiedErrorId | Should -Match '^InvalidInput'
                }
            }
        }

        """;
}
