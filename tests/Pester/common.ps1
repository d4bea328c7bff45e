# Shared by every Pester file: imports the built module and gives helpers for homes, processes and waiting.
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:Fixtures = Join-Path $RepoRoot 'tests/fixtures'
# Servers started by the tests throw on an illegal change of a job's state (a defect found), rather than refusing it.
$env:GOQ_STRICT_TRANSITIONS = '1'
if (-not (Get-Module Goq)) { Import-Module (Join-Path $RepoRoot 'module/Goq.psd1') }
. (Join-Path $RepoRoot 'tools/Helpers.ps1')

function New-GoqTestHome {
    $path = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    New-Item -ItemType Directory -Path $path | Out-Null
    Initialize-GoqHome -Path $path -Port (Get-FreePort) | Out-Null
    $path
}

# A copy of a home (same config, same server key) whose cluster secret is not the server's: an impostor.
function New-GoqImpostorHome([string] $Of) {
    $path = New-GoqTestHome
    Copy-Item -Force (Join-Path $Of '.goq/config.json'), (Join-Path $Of '.goq/server.public') (Join-Path $path '.goq')
    Remove-Item (Join-Path $path '.goq/server.secret')
    $path
}

# Every process started for a home names it on its command line: end them all, then remove the folder.
function Remove-GoqTestHome([string] $GoqHome) {
    if (-not $GoqHome) { return }
    if (Test-Path (Join-Path $GoqHome '.goq/server.pid')) {
        # Only ask a server that runs: asking one that does not costs a request timeout.
        try { Get-GoqWorker -Home $GoqHome | Stop-GoqWorker -Home $GoqHome -Force -ErrorAction SilentlyContinue } catch { }
        try { Stop-GoqServer -Confirm:$false -Home $GoqHome -ErrorAction SilentlyContinue } catch { }
    }
    $null = Stop-GoqHomeProcess $GoqHome -GraceSec 5
    Remove-Item -Recurse -Force $GoqHome -ErrorAction SilentlyContinue
}

# Polls every 50 ms until the condition is true; fails with the reason at the deadline.
function Wait-Until([scriptblock] $Condition, [double] $TimeoutSec = 20, [string] $Because = 'the condition') {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "timed out after $TimeoutSec s waiting for $Because" }
        Start-Sleep -Milliseconds 50 # poll step, bounded by the deadline above
    }
}

# What Ctrl+C does to a pipeline that runs in another runspace: stops it from this thread. True once it has stopped;
# false if it has not within the bound, which is far above what a prompt stop takes (a bound on the test, not a measure).
function Stop-PowerShellWithin([powershell] $PowerShell, [double] $TimeoutSec = 30) {
    $stopping = $PowerShell.BeginStop($null, $null)
    $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSec))
}

# The pid of the job keeper that holds a worker's jobs (published in .goq/run/<host>.<worker>.keeper).
function Get-GoqKeeperPid([string] $GoqHome, [string] $WorkerId) {
    $file = Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$WorkerId.keeper" | Select-Object -First 1
    (Get-Content -Raw $file.FullName | ConvertFrom-Json).Pid
}

function Test-ProcessAlive([int] $Id) {
    $null -ne (Get-Process -Id $Id -ErrorAction SilentlyContinue)
}

# A fresh home with a running server that every cmdlet of the file uses ($env:GOQ_HOME), entered as the current
# location so jobs run (and write their output) inside it. Returns the home's path.
function Enter-GoqTestHome {
    $goqHome = New-GoqTestHome
    $env:GOQ_HOME = $goqHome
    Push-Location $goqHome
    Start-GoqServer | Out-Null
    $goqHome
}

function Exit-GoqTestHome([string] $GoqHome) {
    Pop-Location
    Remove-GoqTestHome $GoqHome
    $env:GOQ_HOME = $null
}

# Makes sure a program a test needs is there, installing Debian's package for it when it is missing (as root, with
# apt-get). Returns $null when the program is there, else the reason it is not, for Set-ItResult -Skipped.
function Install-TestTool([string] $Command, [string] $Package) {
    if (Get-Command $Command -ErrorAction SilentlyContinue) { return $null }
    if (-not (Get-Command apt-get -ErrorAction SilentlyContinue)) { return "$Command is missing and this machine has no apt-get to install Debian's $Package" }
    if ((& id -u) -ne '0') { return "$Command is missing, and installing Debian's $Package needs root" }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    $output = @()
    foreach ($attempt in 1..2) {
        $output = & apt-get install -y -q $Package 2>&1
        if ($LASTEXITCODE -eq 0 -and (Get-Command $Command -ErrorAction SilentlyContinue)) { return $null }
        if ($attempt -eq 1) { $null = & apt-get update -q 2>&1 } # a fresh machine's package lists may be missing or stale
    }
    "Debian's $Package could not be installed: $(($output | Select-Object -Last 3) -join ' ')"
}

# The entries of a home's JSON logs (server.log, or worker-<host>.log with -Worker), optionally of one event.
function Get-GoqLogEntry([string] $GoqHome, [switch] $Worker, [string] $Event) {
    $path = Join-Path $GoqHome ('.goq/' + $(if ($Worker) { "worker-$([Environment]::MachineName).log" } else { 'server.log' }))
    if (-not (Test-Path $path)) { return }
    Get-Content $path | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object { -not $Event -or $_.event -eq $Event }
}
