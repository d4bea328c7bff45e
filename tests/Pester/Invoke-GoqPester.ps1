#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite against the built module, in this (fresh) process, and writes the counts as JSON.
#>
param([Parameter(Mandatory)] [string] $ResultPath)

$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module (Join-Path $PSScriptRoot '.modules/pester/6.2.0/tools/Pester.psd1') -Force

$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path (Split-Path $ResultPath) 'pester.xml'
$result = $null
try { $result = Invoke-Pester -Configuration $config }
catch { Write-Warning "Pester failed after its run (the counts below come from its result, if any): $_" }

# A run whose result is missing (Pester failed while writing its report, say) counts as a failure, never as nothing.
if ($null -eq $result -or $null -eq $result.PassedCount) {
    [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } | ConvertTo-Json | Set-Content -Path $ResultPath
    exit 1
}

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
# The names and first error lines of what failed travel with the counts, so that the build prints them last, where a
# log's tail (all CI keeps of a long run) still shows them.
$failures = @(
    foreach ($t in $result.Failed) { '{0}: {1}' -f $t.ExpandedPath, (($t.ErrorRecord | Select-Object -First 1) -as [string]) }
    foreach ($b in $result.FailedBlocks) { 'block {0}: {1}' -f $b.ExpandedPath, (($b.ErrorRecord | Select-Object -First 1) -as [string]) }
    foreach ($c in $result.FailedContainers) { 'file {0}: {1}' -f $c.Item, (($c.ErrorRecord | Select-Object -First 1) -as [string]) }
)
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount; Failures = $failures } |
    ConvertTo-Json -Depth 3 | Set-Content -Path $ResultPath
