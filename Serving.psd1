@{
    # ModuleVersion is stamped by build.ps1 from Directory.Build.props (<ServingVersion>): one place.
    RootModule             = 'Serving.Cmdlets.dll'
    ModuleVersion          = '0.1.0'
    CompatiblePSEditions   = @('Core')
    PowerShellVersion      = '7.4'
    GUID                   = '0f5b6a5e-7c1d-4c52-9a0e-3b8f2d6c9e41'
    Author                 = 'Serving contributors'
    CompanyName            = 'Serving'
    Copyright              = '(c) Serving contributors. MIT License.'
    Description            = 'A production-grade multi-process model-serving host (API workers, runner workers, a supervisor) driven from PowerShell on Linux, macOS, Windows, WSL and containers.'
    CmdletsToExport        = @(
        'Get-ServingPlatform'
        'Get-ServingPlan'
        'Start-ServingHost'
        'Get-ServingHost'
        'Stop-ServingHost'
        'Restart-ServingHost'
        'Set-ServingHost'
        'Get-ServingLog'
        'Watch-ServingHost'
        'New-ServingService'
        'Invoke-ServingApi'
        'Use-ServingHost'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    FormatsToProcess       = @('Serving.Format.ps1xml')
    PrivateData            = @{
        PSData = @{
            Tags       = @('serving', 'model-serving', 'bentoml', 'kestrel', 'grpc', 'linux', 'windows', 'macos')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
