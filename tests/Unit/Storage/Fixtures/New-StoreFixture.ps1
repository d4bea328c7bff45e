#Requires -Version 7.4
<#
.SYNOPSIS
    Makes a stored-data fixture: the job store (.goq/goq.db) of a real server, holding a known set of jobs.
.DESCRIPTION
    Stored data is a contract: a store written by one version of Goq must be read by every later one (or migrated).
    This script starts a real server and worker on a fresh home, submits a representative set of jobs, waits for each
    to reach the state it is meant to keep, stops everything cleanly and copies the store beside this script.
    StoredDataCompatibilityTests opens the copy with the current code and checks what it finds.

    The ids are fixed by the order of submission, so the test can name them:
        1  completed        a command that exits 0
        2  failed           a command that writes to stderr and exits 3
        3  retried          fails once, then completes on its retry (2 attempts, 1 in its history)
        4  cancelled        was running when Stop-GoqJob cancelled it
        5  dependency-failed  depends on job 2 (AfterOk)
        6  array            an array of 3 tasks (7, 8, 9), all completed
        10 scriptblock      a script-block job with an argument, completed
        11 held             submitted with -Hold
        12 blocked          depends on job 11 (AfterAny)
        13 ready            depends on job 1, which completed; waits in the queue 'later', which no worker serves
        14 priority         priority 10, 2 slots, requires 'gpu', its own variables, a time-out and -MaxAttempts 5, in 'later'
        15 not-before       not before 2099-01-01 00:00 UTC
        16 pending-array    an array of indexes 0, 5 and 10 in 'later', throttled to 1: only its first task (17) is made
    and two queue caps: 'later' 2 and 'nightly' 1.

    The submitting process runs with a near-empty environment (the store keeps the submitter's environment, and a
    fixture checked into the repository must not carry whatever the machine that made it had in its own).
.PARAMETER OutFile
    Where the store goes; by default goq-<module version>.db beside this script.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh tests/Unit/Storage/Fixtures/New-StoreFixture.ps1
#>
[CmdletBinding()]
param(
    [string] $OutFile,

    # Set when the script runs itself again under a clean environment; not for callers.
    [switch] $Inner
)

$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../../..')).Path
$manifest = Join-Path $repoRoot 'module/Goq.psd1'
if (-not $OutFile) {
    $OutFile = Join-Path $PSScriptRoot ('goq-' + (Import-PowerShellDataFile $manifest).ModuleVersion + '.db')
}

if (-not $Inner) {
    # Everything the submitter's environment holds goes into the store, so the work is done by a fresh pwsh that has
    # only what it needs to run (env -i clears the rest), with a throw-away HOME.
    $cleanHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-fixture-user-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $cleanHome | Out-Null
    try {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $variables = @("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=$cleanHome", 'LANG=C.UTF-8')
        if ($env:DOTNET_ROOT) { $variables += "DOTNET_ROOT=$env:DOTNET_ROOT" }
        & env -i @variables $pwsh -NoProfile -NonInteractive -File $PSCommandPath -Inner -OutFile $OutFile
        if ($LASTEXITCODE -ne 0) { throw "making the fixture failed (exit code $LASTEXITCODE)" }
    }
    finally {
        Remove-Item -Recurse -Force $cleanHome -ErrorAction SilentlyContinue
    }
    return
}

Import-Module $manifest
. (Join-Path $repoRoot 'tools/Helpers.ps1')

# Polls until the condition holds; fails with the reason at the deadline.
function Wait-Until([scriptblock] $Condition, [double] $TimeoutSec = 60, [string] $Because) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "timed out after $TimeoutSec s waiting for $Because" }
        Start-Sleep -Milliseconds 50 # poll step, bounded by the deadline above
    }
}

# Submits one job and checks it got the id the test expects: a fixture whose ids drifted would mislead its test.
function Submit-Expected([long] $Id, [hashtable] $Parameters) {
    $job = Submit-GoqJob -Home $goqHome @Parameters
    if ($job.Id -ne $Id) { throw "expected job $Id, got $($job.Id) for $($Parameters.Name)" }
    $job
}

# Jobs as 'id=state', by id, to compare with what is expected in one line.
function Format-States($Jobs) {
    ($Jobs | Sort-Object Id | ForEach-Object { "$($_.Id)=$($_.State)" }) -join ' '
}

$goqHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-fixture-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$work = Join-Path $goqHome 'work'
New-Item -ItemType Directory -Path $work -Force | Out-Null
try {
    Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) | Out-Null
    Start-GoqServer -Home $goqHome | Out-Null
    Start-GoqWorker -Home $goqHome -Slots 2 -Queue default | Out-Null
    Push-Location $work

    # Jobs that run to their end on the worker.
    $ended = @(
        Submit-Expected 1 @{ Command = 'echo fixture'; Name = 'completed' }
        Submit-Expected 2 @{ Command = 'echo oops >&2; exit 3'; Name = 'failed' }
        Submit-Expected 3 @{ Command = 'if [ -e retried.flag ]; then echo second; else touch retried.flag; echo first; exit 1; fi'; Name = 'retried'; RetryCount = 1 }
    )
    $cancelled = Submit-Expected 4 @{ Command = 'sleep 600'; Name = 'cancelled' }
    $ended += Submit-Expected 5 @{ Command = 'echo never'; Name = 'dependency-failed'; DependsOn = 2 }
    $ended += Submit-Expected 6 @{ Command = 'echo task $GOQ_ARRAY_ID'; Name = 'array'; ArrayIndex = 1, 2, 3 }
    $ended += Submit-Expected 10 @{ ScriptBlock = { param($x) $x * 2 }; ArgumentList = 21; Name = 'scriptblock' }

    Wait-Until { (Get-GoqJob -Home $goqHome $cancelled.Id).State -eq 'Running' } -Because 'job 4 to run, so it is cancelled while running'
    Stop-GoqJob -Home $goqHome $cancelled.Id | Out-Null
    # Waiting for an array waits for its tasks, so they come back in its place.
    $done = Format-States ($ended + $cancelled | Wait-GoqJob -Home $goqHome -Timeout 120)
    $expected = '1=Completed 2=Failed 3=Completed 4=Cancelled 5=DependencyFailed 7=Completed 8=Completed 9=Completed 10=Completed'
    if ($done -ne $expected) { throw "the ended jobs are $done, not $expected" }

    # Jobs that stay where they are: held, blocked, not yet due, or in a queue that no worker serves.
    $null = Submit-Expected 11 @{ Command = 'echo held'; Name = 'held'; Hold = $true }
    $null = Submit-Expected 12 @{ Command = 'echo after held'; Name = 'blocked'; DependsOn = 11; DependencyMode = 'AfterAny' }
    $null = Submit-Expected 13 @{ Command = 'echo after completed'; Name = 'ready'; DependsOn = 1; Queue = 'later' }
    $null = Submit-Expected 14 @{
        Command = 'echo urgent'; Name = 'priority'; Priority = 10; Queue = 'later'; SlotCount = 2; Require = 'gpu'
        Environment = @{ FIXTURE = 'yes' }; TimeoutSec = 60; MaxAttempts = 5
    }
    $null = Submit-Expected 15 @{ Command = 'echo later'; Name = 'not-before'; NotBefore = [DateTime]::new(2099, 1, 1, 0, 0, 0, [DateTimeKind]::Utc) }
    $null = Submit-Expected 16 @{ Command = 'echo $GOQ_ARRAY_ID'; Name = 'pending-array'; ArrayIndex = 0, 5, 10; ThrottleLimit = 1; Queue = 'later' }
    Set-GoqQueue -Home $goqHome -Name later -ThrottleLimit 2 | Out-Null
    Set-GoqQueue -Home $goqHome -Name nightly -ThrottleLimit 1 | Out-Null

    $states = Format-States (Get-GoqJob -Home $goqHome 11, 12, 13, 14, 15)
    $expected = '11=Held 12=Blocked 13=Waiting 14=Waiting 15=Waiting'
    if ($states -ne $expected) { throw "the waiting jobs are $states, not $expected" }

    Pop-Location
    # A clean stop closes the store's last connection, which checkpoints the WAL into the file and removes it.
    Stop-GoqServer -Home $goqHome -IncludeWorkers -Confirm:$false | Out-Null
    $store = Join-Path $goqHome '.goq/goq.db'
    foreach ($side in "$store-wal", "$store-shm") {
        if ((Test-Path $side) -and (Get-Item $side).Length -gt 0) { throw "$side is left after the server stopped: the store file alone is not complete" }
    }

    Copy-Item $store $OutFile -Force
    "Wrote $OutFile ($((Get-Item $OutFile).Length) bytes)"
}
finally {
    Pop-Location -ErrorAction SilentlyContinue
    # Whatever still names the home on its command line was started here: it must not outlive the script.
    $killed = Stop-GoqHomeProcess $goqHome
    if ($killed -gt 0) { Write-Warning "killed $killed process(es) left behind" }
    Remove-Item -Recurse -Force $goqHome -ErrorAction SilentlyContinue
}
