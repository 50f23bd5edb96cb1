<#
.SYNOPSIS
    Builds the module's MAML help (en-US/Serving.Cmdlets.dll-Help.xml) from the compiled cmdlets
    and the text in module/help/<Cmdlet>.psd1. PlatyPS is not available here; this is the small
    part of it we need.
.DESCRIPTION
    What the code says is read from the code: parameter sets, types, positions, Mandatory, pipeline
    input (ValueFromPipeline / ValueFromPipelineByPropertyName), wildcards ([SupportsWildcards]),
    -WhatIf and -Confirm (SupportsShouldProcess), the input types (the types of the pipeline
    parameters) and the output types ([OutputType]). What only words can say comes from the help file:

        Synopsis, Description   text; paragraphs are separated by blank lines
        Parameters              @{ <parameter> = 'text' } for every parameter
        Defaults                @{ <parameter> = <literal> | @{ Text = 'words' } }: a literal (30, 'Http')
                                is the property's initial value (Help.Tests compares them); @{ Text }
                                describes a default the code computes when the parameter is not given
                                (its property then starts null, empty or 0). Switches default to False
                                and a parameter mandatory in every set it belongs to to None unless given.
        Inputs                  @{ <type name> = 'text' } for each type of a pipeline parameter
                                ('PSObject[]', 'String[]'); not needed when nothing binds from the pipeline
        Outputs                 @{ <type name> = 'text' } for each [OutputType] ('HostInfo'; 'None' for void)
        Examples                at least two @{ Code = '...'; Remarks = '...' }

    Fails (exit code 1) when any of it is missing for any cmdlet of the module, or when the help file
    names a parameter or a type the cmdlet does not have.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $HelpSource
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModuleDirectory = (Resolve-Path -LiteralPath $ModuleDirectory).Path
$module = Import-Module (Join-Path $ModuleDirectory 'Serving.psd1') -PassThru -Force
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$shouldProcess = [ordered]@{
    WhatIf  = @{ Alias = 'wi'; Text = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.' }
    Confirm = @{ Alias = 'cf'; Text = 'Prompts you for confirmation before running the cmdlet.' }
}

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Get-TypeName([type] $type) {
    if ($type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    # An optional value (int?) reads as what it holds, not Nullable`1, as PowerShell's own syntax shows it.
    if ([System.Nullable]::GetUnderlyingType($type) -is [type]) { return [System.Nullable]::GetUnderlyingType($type).Name }
    return $type.Name
}

function Format-Default($value) {
    <# .SYNOPSIS The text of a documented default: a literal as written, @{ Text } as its words. #>
    if ($value -is [hashtable]) { return [string]$value.Text }
    if ($value -is [bool]) { return $(if ($value) { 'True' } else { 'False' }) }
    return [System.Convert]::ToString($value, [cultureinfo]::InvariantCulture)
}

function Get-ParameterFacts($cmd, [string] $name) {
    <# .SYNOPSIS What the code says about one parameter, over all its parameter sets. #>
    $p = $cmd.Parameters[$name]
    $attributes = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
    $pipeline = @(
        if ($attributes | Where-Object ValueFromPipeline) { 'ByValue' }
        if ($attributes | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' })
    $positions = @($attributes | Where-Object { $_.Position -ge 0 } | ForEach-Object Position)
    $aliases = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.AliasAttribute] } | ForEach-Object AliasNames)
    if ($shouldProcess.Contains($name)) { $aliases = @($shouldProcess[$name].Alias) }
    [pscustomobject]@{
        Name      = $name
        Type      = $p.ParameterType
        Switch    = $p.SwitchParameter
        # Required when mandatory in every set it belongs to (an -Id of the Id set is required there).
        Mandatory = $attributes.Count -gt 0 -and -not ($attributes | Where-Object { -not $_.Mandatory })
        Position  = $(if ($positions.Count) { [string]$positions[0] } else { 'named' })
        Pipeline  = $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' })
        Globbing  = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        Aliases   = $(if ($aliases) { $aliases -join ', ' } else { 'None' })
    }
}

function Get-HelpModel($cmd) {
    <# .SYNOPSIS Reads module/help/<cmdlet>.psd1 and checks it against the code; throws on anything missing. #>
    $file = Join-Path $HelpSource "$($cmd.Name).psd1"
    if (-not (Test-Path $file)) { throw "No help text for $($cmd.Name): write $file." }
    $help = Import-PowerShellDataFile $file
    foreach ($key in 'Synopsis', 'Description') {
        if (-not $help.ContainsKey($key) -or -not "$($help[$key])".Trim()) { throw "$file has no $key." }
    }
    foreach ($key in 'Parameters', 'Defaults', 'Inputs', 'Outputs') { if (-not $help.ContainsKey($key)) { $help[$key] = @{} } }

    $names = @($cmd.Parameters.Keys | Where-Object { $_ -notin $common })
    $names += @($shouldProcess.Keys | Where-Object { $cmd.Parameters.ContainsKey($_) })
    $facts = [ordered]@{}
    foreach ($name in $names) { $facts[$name] = Get-ParameterFacts $cmd $name }

    foreach ($name in $help.Parameters.Keys) { if (-not $facts.Contains($name) -or $shouldProcess.Contains($name)) { throw "$file documents -$name, which $($cmd.Name) does not have (or which is generated)." } }
    foreach ($name in $help.Defaults.Keys) { if (-not $facts.Contains($name)) { throw "$file gives a default for -$name, which $($cmd.Name) does not have." } }
    $descriptions = @{}; $defaults = @{}
    foreach ($name in $names) {
        $f = $facts[$name]
        if ($shouldProcess.Contains($name)) { $descriptions[$name] = $shouldProcess[$name].Text; $defaults[$name] = 'False'; continue }
        if (-not $help.Parameters.ContainsKey($name) -or -not "$($help.Parameters[$name])".Trim()) { throw "$file has no help for the parameter -$name." }
        $descriptions[$name] = $help.Parameters[$name]
        if ($help.Defaults.ContainsKey($name)) {
            $defaults[$name] = Format-Default $help.Defaults[$name]
            if (-not $defaults[$name].Trim()) { throw "$file gives an empty default for -$name." }
        }
        elseif ($f.Switch) { $defaults[$name] = 'False' }
        elseif ($f.Mandatory) { $defaults[$name] = 'None' }
        else { throw "$file has no default for -$name (Defaults = @{ $name = <literal> | @{ Text = '...' } })." }
    }

    # INPUTS: the types of the parameters that bind from the pipeline.
    $inputs = [ordered]@{}
    foreach ($f in $facts.Values | Where-Object Pipeline -NE 'False') {
        $key = $f.Type.Name
        if (-not $inputs.Contains($key)) {
            if (-not $help.Inputs.ContainsKey($key) -or -not "$($help.Inputs[$key])".Trim()) { throw "$file has no Inputs entry for '$key' (-$($f.Name) binds from the pipeline)." }
            $inputs[$key] = [pscustomobject]@{ Name = $f.Type.FullName; Text = $help.Inputs[$key] }
        }
    }
    foreach ($key in $help.Inputs.Keys) { if (-not $inputs.Contains($key)) { throw "$file describes input '$key', but no parameter of $($cmd.Name) of that type binds from the pipeline." } }
    if (-not $inputs.Count) { $inputs['None'] = [pscustomobject]@{ Name = 'None'; Text = "You cannot pipe objects to $($cmd.Name)." } }

    # OUTPUTS: the [OutputType] types; void is None.
    $outputs = [ordered]@{}
    $types = @($cmd.OutputType | ForEach-Object { $_.Type } | Where-Object { $_ })
    if (-not $types) { throw "$($cmd.Name) declares no [OutputType]: add one (typeof(void) when it writes nothing)." }
    foreach ($type in $types) {
        $key = if ($type -eq [void]) { 'None' } else { $type.Name }
        if (-not $help.Outputs.ContainsKey($key) -or -not "$($help.Outputs[$key])".Trim()) { throw "$file has no Outputs entry for '$key' ([OutputType] of $($cmd.Name))." }
        $outputs[$key] = [pscustomobject]@{ Name = $(if ($key -eq 'None') { 'None' } else { $type.FullName }); Text = $help.Outputs[$key] }
    }
    foreach ($key in $help.Outputs.Keys) { if (-not $outputs.Contains($key)) { throw "$file describes output '$key', which is not an [OutputType] of $($cmd.Name)." } }

    $examples = @($help['Examples'] | Where-Object { $_ })
    if ($examples.Count -lt 2) { throw "$file has $($examples.Count) example(s); write at least two." }
    foreach ($e in $examples) {
        if (-not $e.Code -or -not "$($e.Code)".Trim() -or -not $e.Remarks -or -not "$($e.Remarks)".Trim()) { throw "$file has an example without Code or Remarks." }
    }

    [pscustomobject]@{
        Synopsis = $help.Synopsis; Description = $help.Description; Names = $names; Facts = $facts
        Descriptions = $descriptions; Defaults = $defaults; Inputs = $inputs; Outputs = $outputs; Examples = $examples
    }
}

# Check every cmdlet before writing anything: a failed build leaves no half-written help.
$models = [ordered]@{}
$problems = [System.Collections.Generic.List[string]]::new()
foreach ($cmd in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    try { $models[$cmd.Name] = [pscustomobject]@{ Command = $cmd; Help = Get-HelpModel $cmd } }
    catch { $problems.Add("$($cmd.Name): $($_.Exception.Message)") }
}
if ($problems.Count) {
    foreach ($p in $problems) { [Console]::Error.WriteLine("help: $p") }
    exit 1
}

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$target = Join-Path $ModuleDirectory 'en-US/Serving.Cmdlets.dll-Help.xml'
$null = New-Item -ItemType Directory -Force (Split-Path $target)
$w = [System.Xml.XmlWriter]::Create($target, $settings)

function Write-Paragraphs([string] $text) {
    foreach ($para in ($text.Trim() -split "\r?\n\s*\r?\n")) {
        $w.WriteElementString('para', $ns.maml, ($para -replace '\s*\r?\n\s*', ' ').Trim())
    }
}

function Write-Parameter($facts, [string] $description, [string] $default, [bool] $required, [string] $position) {
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $w.WriteAttributeString('variableLength', $facts.Type.IsArray.ToString().ToLowerInvariant())
    $w.WriteAttributeString('globbing', $facts.Globbing.ToString().ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $facts.Pipeline)
    $w.WriteAttributeString('position', $position)
    $w.WriteAttributeString('aliases', $facts.Aliases)
    $w.WriteElementString('name', $ns.maml, $facts.Name)
    $w.WriteStartElement('description', $ns.maml); Write-Paragraphs $description; $w.WriteEndElement()
    $typeName = Get-TypeName $facts.Type
    if ($typeName -ne 'SwitchParameter') {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', 'true')
        $w.WriteString($typeName)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $facts.Type.FullName); $w.WriteEndElement()
    $w.WriteElementString('defaultValue', $ns.dev, $default)
    $w.WriteEndElement()
}

function Write-TypeList([string] $list, [string] $item, $entries) {
    $w.WriteStartElement('command', $list, $ns.command)
    foreach ($entry in $entries.Values) {
        $w.WriteStartElement('command', $item, $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $entry.Name); $w.WriteEndElement()
        $w.WriteStartElement('description', $ns.maml); Write-Paragraphs $entry.Text; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($model in $models.Values) {
    $cmd = $model.Command; $help = $model.Help

    $w.WriteStartElement('command', 'command', $ns.command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $w.WriteStartElement('command', 'details', $ns.command)
    $w.WriteElementString('name', $ns.command, $cmd.Name)
    $w.WriteStartElement('description', $ns.maml); Write-Paragraphs $help.Synopsis; $w.WriteEndElement()
    $w.WriteElementString('verb', $ns.command, $cmd.Verb)
    $w.WriteElementString('noun', $ns.command, $cmd.Noun)
    $w.WriteEndElement()
    $w.WriteStartElement('description', $ns.maml); Write-Paragraphs $help.Description; $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $cmd.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        $w.WriteElementString('name', $ns.maml, $cmd.Name)
        foreach ($p in $set.Parameters | Where-Object { $_.Name -in $help.Names }) {
            $position = if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }
            Write-Parameter $help.Facts[$p.Name] $help.Descriptions[$p.Name] $help.Defaults[$p.Name] $p.IsMandatory $position
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $help.Names) {
        $f = $help.Facts[$name]
        Write-Parameter $f $help.Descriptions[$name] $help.Defaults[$name] $f.Mandatory $f.Position
    }
    $w.WriteEndElement()

    Write-TypeList 'inputTypes' 'inputType' $help.Inputs
    Write-TypeList 'returnValues' 'returnValue' $help.Outputs

    $w.WriteStartElement('command', 'examples', $ns.command)
    $i = 0
    foreach ($example in $help.Examples) {
        $i++
        $w.WriteStartElement('command', 'example', $ns.command)
        $w.WriteElementString('title', $ns.maml, "-------------------------- Example $i --------------------------")
        $w.WriteElementString('code', $ns.dev, $example.Code.Trim())
        $w.WriteStartElement('remarks', $ns.dev); Write-Paragraphs $example.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    $w.WriteStartElement('navigationLink', $ns.maml); $w.WriteElementString('linkText', $ns.maml, 'about_Serving'); $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()
