#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks Goq.
.DESCRIPTION
    Build  publishes the cmdlets and the engine into module/bin and generates the help (module/en-US) from help/en-US,
           so module/Goq.psd1 can be imported.
    Test   builds, runs the xUnit suites (tests/Unit, then tests/System), then the Pester suite in a fresh pwsh, and prints
           'N passed, N failed, N skipped' as its last line; it exits non-zero on any failure or when nothing ran.
    Demo   builds, then runs a server, a worker and a handful of jobs in a throw-away home, and stops them.
    Bench  builds, then measures spawn rate, bulk submit, end-to-end throughput and submit-to-start latency.
    Package builds, then packs the module into artifacts/Goq.<version>.nupkg, which Install-PSResource installs from a
           local repository folder (Register-PSResourceRepository -Uri <folder>).
    Clean  removes build output.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench: how many jobs for the bulk run.
    [int] $Jobs = 2000
)

$ErrorActionPreference = 'Stop'
$PSNativeCommandUseErrorActionPreference = $false
$PSStyle.OutputRendering = 'PlainText'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

$root = $PSScriptRoot
$moduleDir = Join-Path $root 'module'
$artifacts = Join-Path $root 'artifacts'
$pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

# A simple function on purpose: an advanced one would take '-o' as one of its own common parameters.
function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

# Runs a script in a fresh pwsh (a loaded assembly cannot be unloaded, so tests never share our process), with a
# time limit after which its whole process tree is killed.
function Invoke-FreshPwsh {
    param([string] $Script, [string[]] $Arguments = @(), [int] $TimeoutSec = 3600)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
    foreach ($a in @('-NoProfile', '-NonInteractive', '-File', $Script) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    if (-not $process.WaitForExit($TimeoutSec * 1000)) {
        $process.Kill($true)
        throw "$Script did not finish within $TimeoutSec s and was killed"
    }
    $process.WaitForExit()
    return $process.ExitCode
}

function Invoke-Clean {
    foreach ($dir in @((Join-Path $moduleDir 'bin'), (Join-Path $moduleDir 'en-US'), $artifacts)) {
        if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
    }
    Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests') -Directory -Recurse -Include bin, obj |
        Remove-Item -Recurse -Force -ErrorAction SilentlyContinue
}

function Invoke-Build {
    if (Get-Module Goq) { throw 'The Goq module is loaded in this session; build from a fresh pwsh.' }
    $bin = Join-Path $moduleDir 'bin'
    if (Test-Path $bin) { Remove-Item -Recurse -Force $bin }
    Invoke-Dotnet build (Join-Path $root 'Goq.PowerShell.sln') -c $Configuration '-clp:NoSummary' '-v:q' '-nologo'
    Invoke-Dotnet publish (Join-Path $root 'src/Goq.Cmdlets/Goq.Cmdlets.csproj') -c $Configuration -o $bin --no-build '-v:q' '-nologo'
    # The reference assembly must never ship: pwsh brings the real one.
    Remove-Item (Join-Path $bin 'System.Management.Automation.dll') -ErrorAction SilentlyContinue
    # Help is generated from help/en-US (the text) and the built cmdlets (the parameter facts), in a fresh pwsh.
    $helpOut = Join-Path $moduleDir 'en-US'
    if (Test-Path $helpOut) { Remove-Item -Recurse -Force $helpOut }
    $helpArgs = @('-ManifestPath', (Join-Path $moduleDir 'Goq.psd1'), '-SourceDir', (Join-Path $root 'help/en-US'), '-OutDir', $helpOut)
    if ((Invoke-FreshPwsh -Script (Join-Path $root 'tools/Build-Help.ps1') -Arguments $helpArgs -TimeoutSec 300) -ne 0) { throw 'generating the help failed' }
    Write-Information "Module built in $bin" -InformationAction Continue
}

function Get-TrxCounts([string] $Path) {
    if (-not (Test-Path $Path)) { throw "no xUnit results at $Path" }
    [xml] $trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    $failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
    $names = @($trx.TestRun.Results.UnitTestResult | Where-Object outcome -NotIn 'Passed', 'NotExecuted' |
        ForEach-Object { '{0}: {1}' -f $_.testName, (("$($_.Output.ErrorInfo.Message)" -split "`n")[0]) })
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = $failed; Skipped = [int]$c.total - [int]$c.executed; Failures = $names }
}

function Invoke-Test {
    Invoke-Build
    New-Item -ItemType Directory -Force $artifacts | Out-Null

    $trxDir = Join-Path $artifacts 'TestResults'
    if (Test-Path $trxDir) { Remove-Item -Recurse -Force $trxDir }
    # A throw-away PostgreSQL server for the store's tests (GOQ_TEST_POSTGRES), started here where PostgreSQL's server
    # programs are (or can be installed); else the tests that need it skip with the reason (GOQ_TEST_POSTGRES_SKIP).
    . (Join-Path $root 'tools/Helpers.ps1')
    . (Join-Path $root 'tools/TestPostgres.ps1')
    $postgres = Start-GoqTestPostgres
    if ($postgres -is [string]) {
        Write-Warning "PostgreSQL tests will be skipped: $postgres"
        $env:GOQ_TEST_POSTGRES_SKIP = $postgres
    }
    else {
        $env:GOQ_TEST_POSTGRES = "$($postgres.ConnectionString);Password=$($postgres.Password)"
    }
    try { Invoke-TestSuites }
    finally {
        Stop-GoqTestPostgres $postgres
        Remove-Item Env:GOQ_TEST_POSTGRES, Env:GOQ_TEST_POSTGRES_SKIP -ErrorAction SilentlyContinue
    }
}

# The unit tests (seconds), then the system tests (real sockets, servers and processes; minutes), one after the
# other: run side by side on a small machine, the system tests' short heartbeats could starve. Then Pester.
function Invoke-TestSuites {
    $xunit = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0 }
    $failures = [System.Collections.Generic.List[string]]::new()
    foreach ($suite in @(@{ Name = 'unit'; Project = 'tests/Unit/Goq.Tests.csproj' }, @{ Name = 'system'; Project = 'tests/System/Goq.SystemTests.csproj' })) {
        & dotnet test (Join-Path $root $suite.Project) -c $Configuration --no-build '-v:q' '-nologo' `
            --logger "trx;LogFileName=$($suite.Name).trx" --logger 'console;verbosity=normal' --results-directory $trxDir --blame-hang-timeout 5m
        try { $counts = Get-TrxCounts (Join-Path $trxDir "$($suite.Name).trx") }
        catch {
            # A crashed or hung test host leaves no results: that counts as a failure, never as "nothing to report".
            Write-Warning "xUnit ($($suite.Name)): $_"
            $counts = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Failures = @("the $($suite.Name) test host left no results") }
        }
        $failures.AddRange([string[]] @($counts.Failures | ForEach-Object { "xUnit $($suite.Name): $_" }))
        Write-Output "xUnit $($suite.Name): $($counts.Passed) passed, $($counts.Failed) failed, $($counts.Skipped) skipped"
        $xunit.Passed += $counts.Passed
        $xunit.Failed += $counts.Failed
        $xunit.Skipped += $counts.Skipped
    }

    $pesterModules = Join-Path $root 'tests/Pester/.modules'
    if (-not (Test-Path (Join-Path $pesterModules 'pester/6.2.0/tools/Pester.psd1'))) {
        Invoke-Dotnet package download 'Pester@6.2.0' -o $pesterModules
    }
    $pesterResult = Join-Path $artifacts 'pester.json'
    Remove-Item $pesterResult -ErrorAction SilentlyContinue
    try {
        $null = Invoke-FreshPwsh -Script (Join-Path $root 'tests/Pester/Invoke-GoqPester.ps1') -Arguments @('-ResultPath', $pesterResult) -TimeoutSec 2400
        if (-not (Test-Path $pesterResult)) { throw 'the Pester run wrote no result' }
        $pester = Get-Content -Raw $pesterResult | ConvertFrom-Json
        if ($null -eq $pester.Passed -or $null -eq $pester.Failed) { throw 'the Pester run wrote no counts' }
    }
    catch {
        Write-Warning "Pester: $_"
        $pester = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Failures = @("$_") }
    }
    $failures.AddRange([string[]] @($pester.Failures | ForEach-Object { "Pester: $_" }))

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    # What failed, last but for the counts: a log cut to its tail still names it.
    foreach ($f in $failures) { Write-Output "FAILED $f" }
    Write-Output "xUnit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped"
    Write-Output "Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    Write-Output "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

switch ($Task) {
    'Clean' { Invoke-Clean }
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' {
        Invoke-Build
        exit (Invoke-FreshPwsh -Script (Join-Path $root 'tools/Demo.ps1') -TimeoutSec 300)
    }
    'Package' {
        Invoke-Build
        $packArgs = @('-ModuleDir', $moduleDir, '-OutDir', $artifacts)
        if ((Invoke-FreshPwsh -Script (Join-Path $root 'tools/New-GoqPackage.ps1') -Arguments $packArgs -TimeoutSec 300) -ne 0) { throw 'packing the module failed' }
    }
    'Bench' {
        Invoke-Build
        exit (Invoke-FreshPwsh -Script (Join-Path $root 'bench/Bench.ps1') -Arguments @('-Jobs', $Jobs) -TimeoutSec 3600)
    }
}
