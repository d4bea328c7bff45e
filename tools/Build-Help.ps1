#Requires -Version 7.4
<#
.SYNOPSIS
    Generates the module's help (MAML for the cmdlets, about_*.help.txt) from the markdown in help/<culture>.
.DESCRIPTION
    The prose comes from one markdown file per cmdlet (platyPS's section layout: SYNOPSIS, DESCRIPTION, EXAMPLES,
    PARAMETERS, INPUTS, OUTPUTS, NOTES, RELATED LINKS); everything a parameter's attributes say (type, position,
    mandatory, pipeline input, aliases, wildcards, accepted values, parameter sets) comes from the built cmdlets
    themselves, so the help cannot drift from the code. Run in a fresh pwsh: it imports the module.

    Malformed sources stop the build: an unknown section, a parameter the cmdlet does not have, a file for a cmdlet
    the module does not export. Missing text is left for the help coverage test (tests/Pester/Help.Tests.ps1) to
    name, so one gap fails one test rather than the build.
#>
param(
    [Parameter(Mandatory)] [string] $ManifestPath,
    [Parameter(Mandatory)] [string] $SourceDir,
    [Parameter(Mandatory)] [string] $OutDir
)

$ErrorActionPreference = 'Stop'
Import-Module $ManifestPath
$module = Get-Module Goq
$common = [System.Management.Automation.Cmdlet]::CommonParameters

# (A $null passed to a .NET string parameter arrives as '', so every namespace is named.)
$nsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$nsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$nsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$nsXmlns = 'http://www.w3.org/2000/xmlns/'

$knownSections = 'SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'

# Text shown for the two ShouldProcess parameters unless a file says otherwise.
$standardText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run and nothing changes.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

# Markdown inline marks mean nothing on a console: code spans, bold and links become their text.
function ConvertTo-PlainText([string] $Text) {
    $Text = $Text -replace '\[([^\]]+)\]\([^)]*\)', '$1'
    $Text = $Text -replace '\*\*([^*]+)\*\*', '$1'
    $Text -replace '`([^`]+)`', '$1'
}

# Blocks of a section's lines: paragraphs (lines joined), list items (one block each, "- " kept) and fenced code.
function Split-Block([string[]] $Lines) {
    $blocks = [System.Collections.Generic.List[object]]::new()
    $para = [System.Collections.Generic.List[string]]::new()
    $code = $null
    $flush = {
        if ($para.Count -gt 0) { $blocks.Add([pscustomobject]@{ Kind = 'Text'; Text = ConvertTo-PlainText ($para -join ' ') }); $para.Clear() }
    }
    foreach ($line in $Lines) {
        if ($null -ne $code) {
            if ($line -match '^```') { $blocks.Add([pscustomobject]@{ Kind = 'Code'; Text = ($code -join "`n") }); $code = $null }
            else { $code.Add($line) }
            continue
        }
        if ($line -match '^```') { & $flush; $code = [System.Collections.Generic.List[string]]::new(); continue }
        if ($line -match '^\s*$') { & $flush; continue }
        if ($line -match '^\s*([-*]|\d+\.) ') { & $flush }
        $para.Add($line.Trim())
    }
    if ($null -ne $code) { throw 'a code block is not closed' }
    & $flush
    $blocks
}

# A file as sections (## NAME) of subsections (### Title, or '' for the text before the first one).
function Read-HelpMarkdown([string] $Path) {
    $doc = [ordered]@{ Title = $null; Sections = [ordered]@{} }
    $section = $null; $sub = $null; $inCode = $false
    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -match '^```') { $inCode = -not $inCode }
        if (-not $inCode) {
            if ($line -match '^# (.+)$') { $doc.Title = $Matches[1].Trim(); continue }
            if ($line -match '^## (.+)$') {
                $section = [ordered]@{}; $doc.Sections[$Matches[1].Trim()] = $section
                $sub = [System.Collections.Generic.List[string]]::new(); $section[''] = $sub
                continue
            }
            if ($line -match '^### (.+)$') {
                if ($null -eq $section) { throw "${Path}: '$line' comes before any ## section" }
                $sub = [System.Collections.Generic.List[string]]::new(); $section[$Matches[1].Trim()] = $sub
                continue
            }
        }
        if ($null -ne $sub) { $sub.Add($line) }
    }
    $doc
}

function Write-Paras([System.Xml.XmlWriter] $W, $Blocks) {
    $texts = @($Blocks | ForEach-Object Text)
    if ($texts.Count -eq 0) { $texts = @('') }
    foreach ($t in $texts) { $W.WriteElementString('maml', 'para', $nsMaml, $t) }
}

function Write-Description([System.Xml.XmlWriter] $W, $Blocks) {
    $W.WriteStartElement('maml', 'description', $nsMaml)
    Write-Paras $W $Blocks
    $W.WriteEndElement()
}

function Get-TypeLabel([type] $Type) {
    $t = [Nullable]::GetUnderlyingType($Type) ?? $Type
    $t.Name
}

# Accepted values: an enum's names, or a ValidateSet's.
function Get-AcceptedValue($Parameter) {
    $set = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($set) { return $set.ValidValues }
    $t = [Nullable]::GetUnderlyingType($Parameter.ParameterType) ?? $Parameter.ParameterType
    if ($t.IsArray) { $t = $t.GetElementType() }
    if ($t.IsEnum) { return [enum]::GetNames($t) }
    @()
}

function Write-Parameter([System.Xml.XmlWriter] $W, $Parameter, $SetAttributes, $Doc) {
    $switch = $Parameter.SwitchParameter
    $pipe = @()
    if ($SetAttributes | Where-Object ValueFromPipeline) { $pipe += 'ByValue' }
    if ($SetAttributes | Where-Object ValueFromPipelineByPropertyName) { $pipe += 'ByPropertyName' }
    $positions = @($SetAttributes | Where-Object { $_.Position -ge 0 } | ForEach-Object Position)
    $globbing = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $required = @($SetAttributes | Where-Object { -not $_.Mandatory }).Count -eq 0

    $W.WriteStartElement('command', 'parameter', $nsCommand)
    $W.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', $Parameter.ParameterType.IsArray.ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', $globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $(if ($pipe) { "True ($($pipe -join ', '))" } else { 'False' }))
    $W.WriteAttributeString('position', $(if ($positions.Count -gt 0) { [string]$positions[0] } else { 'named' }))
    $W.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $nsMaml, $Parameter.Name)
    Write-Description $W $Doc.Blocks
    $values = @(Get-AcceptedValue $Parameter)
    if ($values.Count -gt 0) {
        $W.WriteStartElement('command', 'parameterValueGroup', $nsCommand)
        foreach ($v in $values) {
            $W.WriteStartElement('command', 'parameterValue', $nsCommand)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('command', 'variableLength', $nsCommand, 'false')
            $W.WriteString($v); $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if (-not $switch) {
        $W.WriteStartElement('command', 'parameterValue', $nsCommand)
        $W.WriteAttributeString('required', 'true'); $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString((Get-TypeLabel $Parameter.ParameterType)); $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $nsDev)
    $W.WriteElementString('maml', 'name', $nsMaml, (Get-TypeLabel $Parameter.ParameterType))
    $W.WriteElementString('maml', 'uri', $nsMaml, '')
    $W.WriteEndElement()
    $W.WriteElementString('dev', 'defaultValue', $nsDev, $(if ($Doc.Default) { $Doc.Default } elseif ($switch) { 'False' } else { 'None' }))
    $W.WriteEndElement()
}

# A parameter's text, without its "Default value: X" line, which goes to the default value instead.
function Get-ParameterDoc($Section, [string] $Name) {
    $lines = $Section["-$Name"]
    $default = $null
    if ($null -eq $lines -and $standardText.ContainsKey($Name)) { $lines = @($standardText[$Name]) }
    $kept = foreach ($line in @($lines)) {
        if ($line -match '^Default value:\s*(.+)$') { $default = ConvertTo-PlainText $Matches[1].Trim() } else { $line }
    }
    [pscustomobject]@{ Blocks = @((Split-Block @($kept)) | Where-Object Kind -EQ 'Text'); Default = $default }
}

function Write-TypeList([System.Xml.XmlWriter] $W, [string] $Outer, [string] $Inner, $Section) {
    $W.WriteStartElement('command', $Outer, $nsCommand)
    foreach ($name in @($Section.Keys | Where-Object { $_ })) {
        $W.WriteStartElement('command', $Inner, $nsCommand)
        $W.WriteStartElement('dev', 'type', $nsDev)
        $W.WriteElementString('maml', 'name', $nsMaml, (ConvertTo-PlainText $name))
        $W.WriteEndElement()
        Write-Description $W (Split-Block $Section[$name])
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

function Write-Command([System.Xml.XmlWriter] $W, [System.Management.Automation.CommandInfo] $Command, $Doc) {
    $s = $Doc.Sections
    $paramSection = $s['PARAMETERS'] ?? @{}
    $shown = @($Command.Parameters.Values | Where-Object {
            $_.Name -notin $common -and -not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow })
        })
    foreach ($key in @($paramSection.Keys | Where-Object { $_ })) {
        if ($key -notmatch '^-(\w+)$' -or $Matches[1] -notin $shown.Name) { throw "$($Command.Name): the help documents '$key', which the cmdlet does not have (or hides)" }
    }

    $W.WriteStartElement('command', 'command', $nsCommand)
    $W.WriteAttributeString('xmlns', 'maml', $nsXmlns, $nsMaml)
    $W.WriteAttributeString('xmlns', 'dev', $nsXmlns, $nsDev)
    $W.WriteStartElement('command', 'details', $nsCommand)
    $W.WriteElementString('command', 'name', $nsCommand, $Command.Name)
    $W.WriteElementString('command', 'verb', $nsCommand, $Command.Verb)
    $W.WriteElementString('command', 'noun', $nsCommand, $Command.Noun)
    Write-Description $W (Split-Block @($s['SYNOPSIS']?['']))
    $W.WriteEndElement()
    Write-Description $W (Split-Block @($s['DESCRIPTION']?['']))

    # One syntax item per parameter set, positional parameters first, as PowerShell's own syntax shows them.
    $W.WriteStartElement('command', 'syntax', $nsCommand)
    foreach ($set in $Command.ParameterSets) {
        $W.WriteStartElement('command', 'syntaxItem', $nsCommand)
        $W.WriteElementString('maml', 'name', $nsMaml, $Command.Name)
        $inSet = $set.Parameters | Where-Object { $_.Name -in $shown.Name } |
            Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } }, @{ Expression = { -not $_.IsMandatory } }
        foreach ($p in $inSet) {
            $meta = $Command.Parameters[$p.Name]
            $attrs = $meta.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and ($_.ParameterSetName -in $set.Name, '__AllParameterSets') }
            Write-Parameter $W $meta @($attrs | Select-Object -First 1) (Get-ParameterDoc $paramSection $p.Name)
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $nsCommand)
    foreach ($p in $shown | Sort-Object Name) {
        $attrs = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        Write-Parameter $W $p @($attrs) (Get-ParameterDoc $paramSection $p.Name)
    }
    $W.WriteEndElement()

    Write-TypeList $W 'inputTypes' 'inputType' ($s['INPUTS'] ?? @{})
    Write-TypeList $W 'returnValues' 'returnValue' ($s['OUTPUTS'] ?? @{})

    $W.WriteStartElement('maml', 'alertSet', $nsMaml)
    $W.WriteStartElement('maml', 'alert', $nsMaml)
    Write-Paras $W (Split-Block @($s['NOTES']?['']))
    $W.WriteEndElement(); $W.WriteEndElement()

    $W.WriteStartElement('command', 'examples', $nsCommand)
    $examples = $s['EXAMPLES'] ?? @{}
    foreach ($title in @($examples.Keys | Where-Object { $_ })) {
        $blocks = Split-Block $examples[$title]
        $W.WriteStartElement('command', 'example', $nsCommand)
        $W.WriteElementString('maml', 'title', $nsMaml, "--- $title $('-' * [Math]::Max(3, 70 - $title.Length))")
        $W.WriteElementString('dev', 'code', $nsDev, (@($blocks | Where-Object Kind -EQ 'Code' | ForEach-Object Text) -join "`n`n"))
        $W.WriteStartElement('dev', 'remarks', $nsDev)
        Write-Paras $W @($blocks | Where-Object Kind -EQ 'Text')
        $W.WriteElementString('maml', 'para', $nsMaml, '') # a blank line before the next example
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('maml', 'relatedLinks', $nsMaml)
    foreach ($block in Split-Block @($s['RELATED LINKS']?[''])) {
        $W.WriteStartElement('maml', 'navigationLink', $nsMaml)
        $W.WriteElementString('maml', 'linkText', $nsMaml, ($block.Text -replace '^\s*[-*]\s*', ''))
        $W.WriteElementString('maml', 'uri', $nsMaml, '')
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
    $W.WriteEndElement()
}

# Console text of an about topic: "## X" headings in capitals at the margin, "### X" headings at the margin, text
# wrapped at 80 columns and indented 4, list items with a hanging indent, code indented 8 and never wrapped.
function ConvertTo-AboutText($Doc) {
    $out = [System.Text.StringBuilder]::new()
    $wrap = {
        param([string] $Text, [int] $Indent, [int] $Hang)
        $line = ' ' * $Indent
        $start = $true
        foreach ($word in $Text -split '\s+' | Where-Object { $_ }) {
            if (-not $start -and $line.Length + 1 + $word.Length -gt 80) { [void]$out.AppendLine($line.TrimEnd()); $line = ' ' * ($Indent + $Hang) + $word }
            elseif ($start) { $line += $word; $start = $false }
            else { $line += " $word" }
        }
        [void]$out.AppendLine($line.TrimEnd())
    }
    [void]$out.AppendLine('TOPIC').AppendLine("    $($Doc.Title)")
    foreach ($name in $Doc.Sections.Keys) {
        [void]$out.AppendLine().AppendLine($name.ToUpperInvariant())
        $previous = 'Heading'
        foreach ($sub in $Doc.Sections[$name].Keys) {
            if ($sub) { [void]$out.AppendLine().AppendLine((ConvertTo-PlainText $sub)); $previous = 'Heading' }
            foreach ($block in Split-Block $Doc.Sections[$name][$sub]) {
                $kind = $block.Kind -eq 'Text' -and $block.Text -match '^([-*]|\d+\.) ' ? 'Item' : $block.Kind
                # A blank line between blocks, but none under a heading and none between the items of a list.
                if ($previous -ne 'Heading' -and -not ($previous -eq 'Item' -and $kind -eq 'Item')) { [void]$out.AppendLine() }
                if ($kind -eq 'Code') { foreach ($l in $block.Text -split "`n") { [void]$out.AppendLine(('        ' + $l).TrimEnd()) } }
                elseif ($kind -eq 'Item') { $null = $block.Text -match '^([-*]|\d+\.) '; & $wrap $block.Text 4 ($Matches[0].Length) }
                else { & $wrap $block.Text 4 0 }
                $previous = $kind
            }
        }
    }
    $out.ToString()
}

New-Item -ItemType Directory -Force $OutDir | Out-Null
$cmdlets = @(Get-Command -Module Goq -CommandType Cmdlet | Sort-Object Name)
$files = @(Get-ChildItem -LiteralPath $SourceDir -Filter '*.md' | Where-Object Name -NotLike 'about_*')
foreach ($f in $files) {
    if ($f.BaseName -notin $cmdlets.Name) { throw "$($f.Name): the module exports no cmdlet '$($f.BaseName)'" }
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$mamlPath = Join-Path $OutDir "$([System.IO.Path]::GetFileName($module.Path))-Help.xml"
$w = [System.Xml.XmlWriter]::Create($mamlPath, $settings)
try {
    $w.WriteStartDocument()
    $w.WriteStartElement('helpItems', 'http://msh')
    $w.WriteAttributeString('schema', 'maml')
    foreach ($c in $cmdlets) {
        $source = Join-Path $SourceDir "$($c.Name).md"
        if (-not (Test-Path -LiteralPath $source)) { Write-Warning "no help source for $($c.Name) ($source)"; continue }
        $doc = Read-HelpMarkdown $source
        if ($doc.Title -ne $c.Name) { throw "${source}: its title is '$($doc.Title)', not '$($c.Name)'" }
        foreach ($name in $doc.Sections.Keys) { if ($name -notin $knownSections) { throw "${source}: unknown section '## $name'" } }
        Write-Command $w $c $doc
    }
    $w.WriteEndElement()
    $w.WriteEndDocument()
}
finally { $w.Dispose() }

foreach ($f in Get-ChildItem -LiteralPath $SourceDir -Filter 'about_*.md') {
    $doc = Read-HelpMarkdown $f.FullName
    if ($doc.Title -ne $f.BaseName) { throw "$($f.Name): its title is '$($doc.Title)', not '$($f.BaseName)'" }
    Set-Content -LiteralPath (Join-Path $OutDir "$($f.BaseName).help.txt") -Value (ConvertTo-AboutText $doc) -NoNewline -Encoding utf8NoBOM
}
