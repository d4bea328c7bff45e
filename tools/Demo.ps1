#Requires -Version 7.4
<#
.SYNOPSIS
    A short tour of Goq: a server, a worker and a handful of jobs in a throw-away home, all stopped at the end.
#>
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module (Join-Path $PSScriptRoot '../module/Goq.psd1')
. (Join-Path $PSScriptRoot 'Helpers.ps1')

$goqHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-demo-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$work = Join-Path $goqHome 'work'
New-Item -ItemType Directory -Path $work -Force | Out-Null
$watch = [System.Diagnostics.Stopwatch]::StartNew()
try {
    '== A throw-away home, a server and a worker with 2 slots'
    Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) | Format-Table | Out-String
    Start-GoqServer -Home $goqHome | Format-Table | Out-String
    Start-GoqWorker -Home $goqHome -Slots 2 | Format-Table | Out-String

    Push-Location $work
    1..3 | ForEach-Object { Set-Content -Path "step$_.sh" -Value "echo 'step $_ ran in' `$(pwd)" }

    '== Submitting: a greeting, a job that fails, one that writes to stderr, exact arguments, a pipeline of scripts'
    $jobs = @(
        Submit-GoqJob -Home $goqHome 'echo "hello from $(hostname)"; sleep 1' -Name greeting
        Submit-GoqJob -Home $goqHome 'echo about to fail; exit 3' -Name fails
        Submit-GoqJob -Home $goqHome 'echo working; sleep 0.2; echo "warning: disk 91% full" >&2; echo done' -Name stderr
        Submit-GoqJob -Home $goqHome /bin/echo -ArgumentList 'two  spaces', "it's" -Name exact
        Get-ChildItem -Path step*.sh | Submit-GoqJob -Home $goqHome
    )
    $jobs | Format-Table | Out-String

    '== Waiting for them (the server pushes each end)'
    $jobs | Wait-GoqJob -Home $goqHome -Timeout 60 | Out-Null
    Get-GoqJob -Home $goqHome | Format-Table | Out-String

    $stderrJob = Get-GoqJob -Home $goqHome -Name 'stderr'
    "== Receive-GoqJob $($stderrJob.Id): stdout on the output stream, stderr on the error stream"
    Receive-GoqJob -Home $goqHome -Id $stderrJob.Id -ErrorAction Continue 2>&1 |
        ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { "  stderr: $_" } else { "  stdout: $_" } }
    "== The same output, as goq writes it: $($stderrJob.OutputPath)"
    Get-Content $stderrJob.OutputPath | ForEach-Object { "  $_" }
    ''
    '== Server status'
    Get-GoqServer -Home $goqHome | Format-List | Out-String
}
finally {
    Pop-Location -ErrorAction SilentlyContinue
    try { Stop-GoqWorker -Home $goqHome -Idle } catch { Write-Warning "stopping workers: $_" }
    try { Stop-GoqServer -Confirm:$false -Home $goqHome } catch { Write-Warning "stopping the server: $_" }
    # Whatever still names the demo home on its command line was started by the demo: it must not outlive it.
    $killed = Stop-GoqHomeProcess $goqHome
    if ($killed -gt 0) { Write-Warning "killed $killed process(es) the demo left behind" }
    Remove-Item -Recurse -Force $goqHome -ErrorAction SilentlyContinue
}
"== Done in $([math]::Round($watch.Elapsed.TotalSeconds, 1)) s; every process the demo started has exited."
