#Requires -Version 7.4
<#
.SYNOPSIS
    A longer chaos run than the suite's (tests/Pester/Chaos.Tests.ps1): -Jobs jobs that each append their tag to a
    ledger, two workers of two slots, while the server is killed -9 -ServerKills times and a worker -WorkerKills times
    (each started again at once, as a supervisor would). Prints the kills, the jobs, how many were lost, ran twice or
    failed. Run after ./build.ps1 -Task Build:  dotnet pwsh bench/Chaos.ps1 -Jobs 2000 -ServerKills 10 -WorkerKills 8
#>
param([int] $Jobs = 2000, [int] $ServerKills = 10, [int] $WorkerKills = 8)

$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$manifest = Join-Path $PSScriptRoot '../module/Goq.psd1'
Import-Module $manifest
. (Join-Path $PSScriptRoot '../tools/Helpers.ps1')

$env:GOQ_HEARTBEAT_SEC = '1'
$env:GOQ_DEAD_WORKER_SEC = '10'
$goqHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-chaos-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory $goqHome | Out-Null
try {
    Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) | Out-Null
    $null = Start-GoqServer -Home $goqHome
    1..2 | ForEach-Object { $null = Start-GoqWorker -Home $goqHome -Slots 2 -Force }
    $ledger = Join-Path $goqHome 'ledger.txt'
    # The kills, spread over the run in a random order, each once the ledger has grown past its point.
    $plan = @(@('server') * $ServerKills) + @(@('worker') * $WorkerKills) | Sort-Object { Get-Random }
    $step = [math]::Floor($Jobs * 0.9 / [math]::Max(1, $plan.Count))
    $killer = Start-ThreadJob -ArgumentList $manifest, $goqHome, $ledger, $plan, $step -ScriptBlock {
        param($Manifest, $GoqHome, $Ledger, $Plan, $Step)
        Import-Module $Manifest
        $done = @{ server = 0; worker = 0 }
        for ($i = 0; $i -lt $Plan.Count; $i++) {
            $deadline = [DateTime]::UtcNow.AddSeconds(300)
            while ([DateTime]::UtcNow -lt $deadline -and -not ((Test-Path $Ledger) -and @(Get-Content $Ledger).Count -ge ($i + 1) * $Step)) {
                Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
            }
            $victim = if ($Plan[$i] -eq 'server') { (Get-GoqServer -Home $GoqHome).ServerPid } else { (Get-GoqWorker -Home $GoqHome | Get-Random).Pid }
            Stop-Process -Id $victim -Force
            while (Get-Process -Id $victim -ErrorAction SilentlyContinue) { Start-Sleep -Milliseconds 20 } # until it is gone
            if ($Plan[$i] -eq 'server') { $null = Start-GoqServer -Home $GoqHome } else { $null = Start-GoqWorker -Home $GoqHome -Slots 2 -Force }
            $done[$Plan[$i]]++
        }
        $done
    }
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $submitted = 1..$Jobs | ForEach-Object { "sleep 0.0$(Get-Random -Maximum 10); echo tag-$_ >> '$ledger'" } | Submit-GoqJob -Home $goqHome -MaxAttempts 1
    $kills = $killer | Wait-Job -Timeout 1800 | Receive-Job
    $ended = $submitted | Wait-GoqJob -Home $goqHome -Timeout 1800
    $tags = @(Get-Content $ledger)
    $known = @(Get-GoqJob -Home $goqHome).Count
    [pscustomobject]@{
        'jobs acknowledged'        = $submitted.Count
        'server kills'             = $kills.server
        'worker kills'             = $kills.worker
        'jobs known after'         = $known
        'lost (acknowledged, not known or never ended)' = $submitted.Count - @($ended).Count
        'ran twice'                = @($tags | Group-Object | Where-Object Count -GT 1).Count
        'never ran'                = $submitted.Count - @($tags | Sort-Object -Unique).Count
        'ended Failed or Cancelled' = @($ended | Where-Object State -NE 'Completed').Count
        'attempts > 1'             = @($ended | Where-Object Attempts -GT 1).Count
        'seconds'                  = [math]::Round($watch.Elapsed.TotalSeconds)
    } | Format-List | Out-String
}
finally {
    try { Get-GoqWorker -Home $goqHome | Stop-GoqWorker -Home $goqHome -Force } catch { }
    try { Stop-GoqServer -Confirm:$false -Home $goqHome } catch { }
    $null = Stop-GoqHomeProcess $goqHome
    Remove-Item -Recurse -Force $goqHome -ErrorAction SilentlyContinue
    $env:GOQ_HEARTBEAT_SEC = $null; $env:GOQ_DEAD_WORKER_SEC = $null
}
