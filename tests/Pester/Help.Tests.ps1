# Complete help for every cmdlet the module exports, checked from Get-Help -Full against the code:
# synopsis, description, examples, every parameter (-WhatIf/-Confirm where supported) with its default
# value (compared with the cmdlet object's initial property values), pipeline input and wildcard flags
# (from the parameter attributes), INPUTS (the pipeline parameters' types) and OUTPUTS ([OutputType]).
# And the generator (tools/New-ServingHelp.ps1) fails when a help file lacks any of it.

BeforeDiscovery {
    Import-Module $env:SERVING_TEST_MODULE -Force
    $script:Cmdlets = @(Get-Command -Module Serving -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'HostHelpers.ps1')
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    function Get-Documented($cmd) {
        <# .SYNOPSIS The parameters a cmdlet's help must show: its own, and -WhatIf/-Confirm when it supports ShouldProcess. #>
        @($cmd.Parameters.Keys | Where-Object { $_ -notin $Common }) + @('WhatIf', 'Confirm' | Where-Object { $cmd.Parameters.ContainsKey($_) })
    }

    function Get-PipelineInput($parameter) {
        <# .SYNOPSIS What the code says about a parameter's pipeline input, over all its parameter sets. #>
        $attributes = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $kinds = @(
            if ($attributes | Where-Object ValueFromPipeline) { 'ByValue' }
            if ($attributes | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' })
        if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
    }

    function Test-Unset($value) {
        <# .SYNOPSIS A property initial value that means "not given" (null, empty, 0, false), which help may describe in words. #>
        if ($null -eq $value) { return $true }
        if ($value -is [array]) { return $value.Count -eq 0 }
        if ($value -is [string]) { return $value.Length -eq 0 }
        if ($value -is [enum]) { return $false }
        if ($value -is [System.Management.Automation.SwitchParameter]) { return -not $value.IsPresent }
        if ($value -is [ValueType]) { return $value -eq [Activator]::CreateInstance($value.GetType()) }
        return $false
    }

    function Format-Value($value) {
        if ($value -is [System.Management.Automation.SwitchParameter]) { return $value.IsPresent.ToString() }
        if ($value -is [enum]) { return $value.ToString() }
        return [Convert]::ToString($value, [cultureinfo]::InvariantCulture)
    }

    function Invoke-HelpGenerator {
        <# .SYNOPSIS Runs tools/New-ServingHelp.ps1 in a child pwsh on a copy of the module with the given help files; returns exit code and errors. #>
        param([Parameter(Mandatory)] [string] $HelpSource)
        $copy = Join-Path $TestDrive "module-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        Copy-Item -Recurse (Get-Module Serving).ModuleBase $copy
        $p = Start-ChildPwsh -RedirectError -Script "& '$(Join-Path $RepoRoot 'tools/New-ServingHelp.ps1')' -ModuleDirectory '$copy' -HelpSource '$HelpSource'; exit `$LASTEXITCODE"
        $err = $p.StandardError.ReadToEndAsync()
        $null = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'The help generator did not finish within 120 s.' }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Error = $err.Result; Help = Join-Path $copy 'en-US/Serving.Cmdlets.dll-Help.xml' }
    }

    function New-HelpVariant {
        <# .SYNOPSIS A copy of module/help in TestDrive where one file is changed by a script block (which gets the file's text). #>
        param([string] $Cmdlet, [scriptblock] $Change)
        $dir = Join-Path $TestDrive "help-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        Copy-Item -Recurse (Join-Path $RepoRoot 'module/help') $dir
        $file = Join-Path $dir "$Cmdlet.psd1"
        $text = & $Change (Get-Content -Raw $file)
        Set-Content -LiteralPath $file -Value $text
        return $dir
    }
}

Describe 'Get-Help <Name> -Full' -ForEach $Cmdlets {
    BeforeAll {
        $script:Cmd = Get-Command $Name
        $script:Help = Get-Help $Name -Full
        $script:Text = Get-Help $Name -Full | Out-String -Width 200
        $script:Params = @{}
        foreach ($p in @($Help.parameters.parameter)) { $Params[$p.name] = $p }
    }

    It 'has a written synopsis and description' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis.Trim() | Should -Not -BeLike "$Name*" -Because 'a generated synopsis is just the syntax'
        ($Help.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and remarks' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) {
            "$($e.code)".Trim() | Should -Not -BeNullOrEmpty
            ($e.remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents every parameter, -WhatIf and -Confirm exactly when it supports ShouldProcess' {
        $expected = Get-Documented $Cmd
        @($Params.Keys | Sort-Object) | Should -Be @($expected | Sort-Object)
        $supports = [bool]($Cmd.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0].SupportsShouldProcess)
        $Params.ContainsKey('WhatIf') | Should -Be $supports
        $Params.ContainsKey('Confirm') | Should -Be $supports
        foreach ($name in $expected) {
            ($Params[$name].description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$name is described"
        }
        if ($supports) { $Text | Should -Match '(?m)^\s+-WhatIf\s*$'; $Text | Should -Match '(?m)^\s+-Confirm\s*$' }
    }

    It 'shows pipeline input and wildcards as the parameter attributes say' {
        foreach ($name in Get-Documented $Cmd) {
            $p = $Cmd.Parameters[$name]
            $Params[$name].pipelineInput | Should -Be (Get-PipelineInput $p) -Because "-$name's pipeline input"
            $wildcards = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            $Params[$name].globbing | Should -Be $wildcards.ToString().ToLowerInvariant() -Because "-$name's wildcards"
        }
        $Text | Should -Match 'Accept pipeline input\?'
        $Text | Should -Match 'Accept wildcard characters\?'
    }

    It 'shows every default value, and each one the code starts from' {
        $instance = [Activator]::CreateInstance($Cmd.ImplementingType)
        foreach ($name in Get-Documented $Cmd) {
            $documented = "$($Params[$name].defaultValue)".Trim()
            $documented | Should -Not -BeNullOrEmpty -Because "-$name has a documented default"
            if ($name -in 'WhatIf', 'Confirm') { $documented | Should -Be 'False'; continue }
            $initial = $Cmd.ImplementingType.GetProperty($name).GetValue($instance)
            if ($Cmd.Parameters[$name].SwitchParameter) { $documented | Should -Be 'False' -Because "-$name is a switch"; continue }
            if (-not (Test-Unset $initial)) {
                # The code starts from a real value: the help must say exactly that value.
                $documented | Should -Be (Format-Value $initial) -Because "-$name's property starts at $(Format-Value $initial)"
            }
            elseif ($documented -match '^-?\d+(\.\d+)?$') {
                # A number documented for a property that starts unset must be the value itself (0).
                $documented | Should -Be (Format-Value $initial) -Because "-$name's property starts at $(Format-Value $initial)"
            }
        }
        $Text | Should -Match 'Default value'
    }

    It 'lists INPUTS from the pipeline parameters and OUTPUTS from [OutputType]' {
        $inputs = @($Cmd.Parameters.Values | Where-Object { $_.Name -notin $Common -and (Get-PipelineInput $_) -ne 'False' } | ForEach-Object { $_.ParameterType.FullName } | Sort-Object -Unique)
        if (-not $inputs) { $inputs = @('None') }
        @($Help.inputTypes.inputType | ForEach-Object { $_.type.name } | Sort-Object) | Should -Be $inputs
        $outputs = @($Cmd.OutputType | ForEach-Object { if ($_.Type -eq [void]) { 'None' } else { $_.Type.FullName } } | Sort-Object -Unique)
        $outputs | Should -Not -BeNullOrEmpty -Because 'every cmdlet declares [OutputType]'
        @($Help.returnValues.returnValue | ForEach-Object { $_.type.name } | Sort-Object) | Should -Be $outputs
        foreach ($item in @($Help.inputTypes.inputType) + @($Help.returnValues.returnValue)) {
            ($item.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$($item.type.name) is described"
        }
        $Text | Should -Match '(?m)^INPUTS\s*$'
        $Text | Should -Match '(?m)^OUTPUTS\s*$'
        foreach ($type in $inputs + $outputs) { $Text | Should -Match ([regex]::Escape($type)) }
    }
}

Describe 'The help generator (tools/New-ServingHelp.ps1)' {
    It 'writes the help of the module from module/help as it is' {
        $run = Invoke-HelpGenerator -HelpSource (Join-Path $RepoRoot 'module/help')
        $run.ExitCode | Should -Be 0 -Because $run.Error
        $xml = [xml](Get-Content -Raw $run.Help)
        @($xml.helpItems.command).Count | Should -Be @(Get-Command -Module Serving -CommandType Cmdlet).Count
    }

    It 'fails when <What>' -ForEach @(
        @{ What = 'a parameter has no default'; Cmdlet = 'Stop-ServingHost'; Pattern = 'no default for -Timeout'; Change = { param($t) $t -replace '(?m)^\s*Timeout = 30\s*$', '' } }
        @{ What = 'a parameter has no help'; Cmdlet = 'Stop-ServingHost'; Pattern = 'no help for the parameter -Force'; Change = { param($t) $t -replace "(?m)^\s*Force\s*=.*$", '' } }
        @{ What = 'a pipeline input type is not described'; Cmdlet = 'Stop-ServingHost'; Pattern = "no Inputs entry for 'PSObject\[\]'"; Change = { param($t) $t -replace "(?m)^\s*'PSObject\[\]' = .*$", '' } }
        @{ What = 'an output type is not described'; Cmdlet = 'Stop-ServingHost'; Pattern = "no Outputs entry for 'HostInfo'"; Change = { param($t) $t -replace "(?m)^\s*HostInfo = .*$", '' } }
        @{ What = 'there is only one example'; Cmdlet = 'Stop-ServingHost'; Pattern = 'at least two'; Change = { param($t) $n = 0; $kept = foreach ($line in $t -split "`n") { if ($line -match '^\s*@\{ Code = ' -and $n++ -gt 0) { continue }; $line }; $kept -join "`n" } }
        @{ What = 'a help file names a parameter the cmdlet does not have'; Cmdlet = 'Stop-ServingHost'; Pattern = 'documents -Bogus'; Change = { param($t) $t -replace '(?m)^(\s*)PassThru(\s*)=', '$1Bogus = ''x''; PassThru$2=' } }
        @{ What = 'the synopsis is missing'; Cmdlet = 'Get-ServingPlatform'; Pattern = 'has no Synopsis'; Change = { param($t) $t -replace "(?m)^\s*Synopsis\s*=.*$", '' } }
    ) {
        $dir = New-HelpVariant -Cmdlet $Cmdlet -Change $Change
        $run = Invoke-HelpGenerator -HelpSource $dir
        $run.ExitCode | Should -Be 1
        $run.Error | Should -Match $Pattern
        $staged = Join-Path (Get-Module Serving).ModuleBase 'en-US/Serving.Cmdlets.dll-Help.xml'
        (Get-FileHash $run.Help).Hash | Should -Be (Get-FileHash $staged).Hash -Because 'a failed generation writes no help: the copy keeps the help it had'
    }
}

Describe 'about_Serving' {
    BeforeAll {
        $script:About = Get-Content -Raw (Join-Path (Get-Module Serving).ModuleBase 'en-US/about_Serving.help.txt')

        function Get-AboutSection([string] $Title) {
            <# .SYNOPSIS The text of one section of about_Serving: from its title line to the next title. #>
            $m = [regex]::Match($About, "(?ms)^$([regex]::Escape($Title))\r?\n(.*?)(?=^[A-Z][A-Z ,]+\r?$)")
            if (-not $m.Success) { throw "about_Serving has no section $Title." }
            return $m.Groups[1].Value
        }

        function Get-AboutCode([string] $Section) {
            <# .SYNOPSIS The code blocks of a section: runs of lines indented 8 spaces, dedented. #>
            $blocks = [System.Collections.Generic.List[string]]::new()
            $current = [System.Collections.Generic.List[string]]::new()
            foreach ($line in ($Section -split '\r?\n') + '    end') {
                if ($line -match '^ {8}' -or ($current.Count -and -not $line.Trim())) { $current.Add($line) }
                elseif ($current.Count) {
                    $blocks.Add((($current | ForEach-Object { if ($_.Length -ge 8) { $_.Substring(8) } else { '' } }) -join "`n").Trim())
                    $current.Clear()
                }
            }
            return $blocks
        }
    }

    It 'has sections on installing, writing, testing and deploying a service, linking the docs that exist' {
        foreach ($title in 'INSTALLING', 'WRITING A SERVICE', 'TESTING A SERVICE', 'DEPLOYING A SERVICE') { Get-AboutSection $title | Should -Not -BeNullOrEmpty }
        (Get-Help about_Serving | Out-String) | Should -Match 'DEPLOYING A SERVICE'
        $deploying = Get-AboutSection 'DEPLOYING A SERVICE'
        $deploying | Should -Match 'docs/deploy\.md'
        $deploying | Should -Match 'docs/metrics\.md'
        foreach ($doc in [regex]::Matches($About, 'docs/[a-z-]+\.md').Value | Sort-Object -Unique) { Join-Path $RepoRoot $doc | Should -Exist }
        foreach ($path in 'deploy/Dockerfile', 'deploy/kubernetes') { Join-Path $RepoRoot $path | Should -Exist }
    }

    It 'installs with the lines it shows, which are the README''s' {
        $install = @(Get-AboutCode (Get-AboutSection 'INSTALLING'))[0] -split "`n" | ForEach-Object Trim | Where-Object { $_ -like '*-PSResource*' }
        $install.Count | Should -Be 2
        $readme = Get-Content -Raw (Join-Path $RepoRoot 'README.md')
        foreach ($line in $install) { $readme | Should -Match ([regex]::Escape($line)) }
    }

    It 'has a service that builds, plans and passes its own Pester example, as written' {
        $code = Get-AboutCode (Get-AboutSection 'WRITING A SERVICE')
        $csproj = $code | Where-Object { $_ -like '<Project*' }
        $runner = $code | Where-Object { $_ -like 'using Serving.Abstractions;*' }
        $manifest = $code | Where-Object { $_ -like '@{*' }
        $tests = (Get-AboutCode (Get-AboutSection 'TESTING A SERVICE')) | Where-Object { $_ -like 'Describe *' }
        foreach ($block in $csproj, $runner, $manifest, $tests) { @($block).Count | Should -Be 1 }

        $work = Join-Path $TestDrive 'about'
        $svc = New-Item -ItemType Directory -Force (Join-Path $work 'mysvc')
        Set-Content (Join-Path $svc 'MyRunners.csproj') ($csproj -replace 'MODULEBASE', (Get-Module Serving).ModuleBase)
        Set-Content (Join-Path $svc 'TextRunner.cs') $runner
        Set-Content (Join-Path $svc 'service.psd1') $manifest
        Set-Content (Join-Path $work 'MySvc.Tests.ps1') $tests
        $build = & dotnet build (Join-Path $svc 'MyRunners.csproj') -c Release --nologo -v q -nodeReuse:false -p:UseSharedCompilation=false 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($build -join "`n")

        # The Pester example, in a child pwsh that finds the module by name, as an installed one is found.
        $pester = (Get-Module Pester).Path -replace 'psm1$', 'psd1'
        $modules = Split-Path (Get-Module Serving).ModuleBase
        $p = Start-ChildPwsh -RedirectError -Script @"
`$env:PSModulePath = '$modules' + [IO.Path]::PathSeparator + `$env:PSModulePath
Set-Location '$work'
Import-Module '$pester'
Get-ServingPlan -Service ./mysvc -WarningAction Ignore | Out-Null
`$r = Invoke-Pester ./MySvc.Tests.ps1 -PassThru -Output None
'RESULT:' + (@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount; Module = (Get-Module Serving).ModuleBase; Jobs = @(Get-Job).Count } | ConvertTo-Json -Compress)
"@
        $err = $p.StandardError.ReadToEndAsync()
        $out = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true) }
        $line = ($out -split "\r?\n") | Where-Object { $_ -like 'RESULT:*' } | Select-Object -Last 1
        $line | Should -Not -BeNullOrEmpty -Because "the child wrote: $out $($err.Result)"
        $result = $line.Substring(7) | ConvertFrom-Json
        $result.Passed | Should -Be 1
        $result.Failed | Should -Be 0
        $result.Module | Should -Be (Get-Module Serving).ModuleBase
        $result.Jobs | Should -Be 0 -Because 'AfterAll removed the host''s job'
    }
}
