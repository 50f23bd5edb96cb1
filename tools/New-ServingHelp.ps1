<#
.SYNOPSIS
    Builds the module's MAML help (en-US/Serving.Cmdlets.dll-Help.xml) from the compiled cmdlets
    and the text in module/help/<Cmdlet>.psd1. PlatyPS is not available here; this is the small
    part of it we need. Fails when a cmdlet or one of its parameters has no written help.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $HelpSource
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$module = Import-Module (Join-Path $ModuleDirectory 'Serving.psd1') -PassThru -Force
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
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

function Get-TypeName([type] $type) {
    if ($type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    return $type.Name
}

function Write-Parameter($parameter, $attribute, [string] $description) {
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', $attribute.Mandatory.ToString().ToLowerInvariant())
    $w.WriteAttributeString('globbing', 'false')
    $pipeline = @(if ($attribute.ValueFromPipeline) { 'ByValue' }; if ($attribute.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
    $w.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
    $w.WriteAttributeString('position', $(if ($attribute.Position -ge 0) { [string]($attribute.Position + 1) } else { 'named' }))
    $w.WriteElementString('name', $ns.maml, $parameter.Name)
    $w.WriteStartElement('description', $ns.maml); Write-Paragraphs $description; $w.WriteEndElement()
    $typeName = Get-TypeName $parameter.ParameterType
    if ($typeName -ne 'SwitchParameter') {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', 'true')
        $w.WriteString($typeName)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $parameter.ParameterType.FullName); $w.WriteEndElement()
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($cmd in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $file = Join-Path $HelpSource "$($cmd.Name).psd1"
    if (-not (Test-Path $file)) { throw "No help text for $($cmd.Name): write $file." }
    $help = Import-PowerShellDataFile $file
    $names = @($cmd.Parameters.Keys | Where-Object { $_ -notin $common })
    foreach ($name in $names) {
        if (-not $help.Parameters.ContainsKey($name)) { throw "$file has no help for the parameter -$name." }
    }

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
        foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common }) {
            $attr = [pscustomobject]@{ Mandatory = $p.IsMandatory; ValueFromPipeline = $p.ValueFromPipeline; ValueFromPipelineByPropertyName = $p.ValueFromPipelineByPropertyName; Position = $p.Position }
            Write-Parameter $p $attr $help.Parameters[$p.Name]
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $names) {
        $p = $cmd.Parameters[$name]
        $attr = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        Write-Parameter $p $attr $help.Parameters[$name]
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($type in $cmd.OutputType) {
        $w.WriteStartElement('command', 'returnValue', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('name', $ns.maml, $type.Name); $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

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
