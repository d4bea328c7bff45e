# Bench runs at scale, dot-sourced by Bench.ps1: a thousand workers on one server, and a million waiting jobs.

# Resident memory of a process in MB (Linux).
function Get-RssMB([int] $ProcessId) {
    [double]((Get-Content "/proc/$ProcessId/status" | Where-Object { $_ -like 'VmRSS:*' }) -replace '[^0-9]', '') / 1024
}

# Starts simulated workers (tests/SimWorkers: the real protocol, CURVE and MACs, jobs "run" in no time) in a process of
# their own; closing its stdin ends it.
function Start-SimulatedWorkers([string] $GoqHome, [int] $Count, [string] $Prefix, [string] $Queue, [switch] $Hang) {
    $dll = Join-Path $PSScriptRoot '../tests/SimWorkers/bin/Release/net10.0/Goq.SimWorkers.dll'
    if (-not (Test-Path $dll)) { throw "no simulated workers at ${dll}: run ./build.ps1 -Task Build" }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--home', $GoqHome, '--workers', $Count, '--prefix', $Prefix, '--queue', $Queue, '--hang', ($Hang ? '1' : '0'))) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    [System.Diagnostics.Process]::Start($psi)
}

# $Count simulated workers in $Processes processes, serving their own queue: how long until the server counts them
# all; the server's CPU and memory with them connected and idle (heartbeats only) over $IdleSec; the dispatch rate of
# an array of $Jobs tasks released at once to them; and how long after one of them hangs (holding a job) the server
# declares it dead, beside the dead-worker time.
function Measure-SimulatedWorkers([string] $GoqHome, [int] $Count, [int] $Processes, [int] $Jobs, [int] $ServerPid, [int] $IdleSec = 10) {
    $queue = 'bench-sim'
    $settings = [Goq.Configuration.GoqSettings]::Load($GoqHome)
    $fleets = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    try {
        $rssBefore = Get-RssMB $ServerPid
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        for ($p = 0; $p -lt $Processes; $p++) {
            $size = [math]::Floor($Count / $Processes) + ($p -lt $Count % $Processes ? 1 : 0)
            $fleets.Add((Start-SimulatedWorkers $GoqHome $size "sim$p" $queue))
        }
        $fleets.Add((Start-SimulatedWorkers $GoqHome 1 'hung' 'bench-hung' -Hang))
        $deadline = [DateTime]::UtcNow.AddMinutes(3)
        while (@(Get-GoqWorker -Home $GoqHome | Where-Object { $_.Queues -contains $queue -or $_.Id -eq 'hung-0' }).Count -lt $Count + 1) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "the server did not count $Count simulated workers within 3 minutes" }
            Start-Sleep -Milliseconds 200
        }
        $connectSec = $watch.Elapsed.TotalSeconds

        # Idle: heartbeats only (each worker every HeartbeatSec), measured over a fixed window.
        $cpu0 = (Get-CpuSeconds $ServerPid).Own
        $watch.Restart()
        Start-Sleep -Seconds $IdleSec
        $idleCpuPct = ((Get-CpuSeconds $ServerPid).Own - $cpu0) / $watch.Elapsed.TotalSeconds * 100
        $rssIdle = Get-RssMB $ServerPid

        # Dispatch: the whole array is held, then released at once; from the release until its last task ended.
        $array = Submit-GoqJob -Home $GoqHome 'true' -ArrayIndex ([int[]](0..($Jobs - 1))) -Queue $queue -Hold
        $cpu0 = (Get-CpuSeconds $ServerPid).Own
        $released = [DateTimeOffset]::UtcNow
        $null = Resume-GoqJob -Home $GoqHome $array.Id
        $done = Wait-GoqJob -Home $GoqHome $array.Id -Timeout 600
        $cpuPerJobMs = ((Get-CpuSeconds $ServerPid).Own - $cpu0) * 1000 / $Jobs
        $failed = @($done | Where-Object State -NE 'Completed').Count
        if ($done.Count -ne $Jobs -or $failed -gt 0) { throw "simulated workers: $($done.Count) of $Jobs tasks ended, $failed not Completed" }
        $lastEnd = ($done | Measure-Object -Property FinishedAt -Maximum).Maximum
        $ranOn = @($done | Group-Object WorkerId).Count
        $rate = $Jobs / ($lastEnd - $released).TotalSeconds
        $null = Remove-GoqJob -Home $GoqHome $array.Id

        # A hung worker: it takes the one job of its queue and goes silent.
        $fragile = Submit-GoqJob -Home $GoqHome 'true' -Queue 'bench-hung'
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-GoqJob -Home $GoqHome $fragile.Id).State -ne 'Running') {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the hung worker was never handed its job' }
            Start-Sleep -Milliseconds 20
        }
        $watch.Restart()
        $deadline = [DateTime]::UtcNow.AddSeconds($settings.DeadWorkerSec * 3)
        while (@(Get-GoqWorker -Home $GoqHome | Where-Object Id -EQ 'hung-0').Count -gt 0) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "the hung worker was not declared dead within $($settings.DeadWorkerSec * 3) s" }
            Start-Sleep -Milliseconds 100
        }
        $deadSec = $watch.Elapsed.TotalSeconds
        $back = (Get-GoqJob -Home $GoqHome $fragile.Id).State
        $null = Stop-GoqJob -Home $GoqHome $fragile.Id
        $null = Remove-GoqJob -Home $GoqHome $fragile.Id

        [pscustomobject]@{ ConnectSec = $connectSec; IdleCpuPct = $idleCpuPct; RssBefore = $rssBefore; RssIdle = $rssIdle; Rate = $rate;
            CpuPerJobMs = $cpuPerJobMs; RanOn = $ranOn; DeadSec = $deadSec; DeadAfterSec = $settings.DeadWorkerSec; HeartbeatSec = $settings.HeartbeatSec; JobBack = $back }
    }
    finally {
        foreach ($fleet in $fleets) {
            try { $fleet.StandardInput.Close() } catch { Write-Verbose "closing a fleet: $_" }
            if (-not $fleet.WaitForExit(10000)) { $fleet.Kill($true) }
        }
    }
}

# $Count jobs waiting in a queue no worker serves (each its own 80-character command), on a server of their own: the
# submit rate for the first 10,000 and for the rest, the server's memory with them all queued, and a restart: how long
# until Start-GoqServer returns with every job back, and until a job submitted then has run on a worker connected
# before the restart (which announces itself again within one heartbeat).
function Measure-WaitingQueue([int] $Count, [string] $StoreConnectionString) {
    $queueHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench-queue-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $queueHome | Out-Null
    try {
        $store = if ($StoreConnectionString) { @{ StoreConnectionString = $StoreConnectionString } } else { @{} }
        Initialize-GoqHome -Path $queueHome -Port (Get-FreePort) @store | Out-Null
        $server = Start-GoqServer -Home $queueHome
        $null = Start-GoqWorker -Home $queueHome -Slots 1 -NoJobKeeper
        $command = '/usr/bin/printf "%s\n" processing-input-file-0000000.dat --threshold 0.75 --out /data/res'
        $submit = { param($from, $to) $from..$to | ForEach-Object { "$command-$_" } | Submit-GoqJob -Home $queueHome -Queue bench-waiting | Out-Null }
        & $submit 1 2000 # warm
        $before = Get-RssMB $server.Pid
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        & $submit 2001 12000
        $rate10k = 10000 / $watch.Elapsed.TotalSeconds
        $watch.Restart()
        & $submit 12001 $Count
        $rateAll = ($Count - 12000) / $watch.Elapsed.TotalSeconds
        $queued = Get-RssMB $server.Pid
        $waiting = (Get-GoqServer -Home $queueHome).WaitingJobs
        if ($waiting -ne $Count) { throw "waiting queue: $waiting of $Count jobs waiting" }

        Stop-GoqServer -Home $queueHome -Confirm:$false | Out-Null
        Wait-Process -Id $server.Pid -Timeout 120 -ErrorAction SilentlyContinue
        $watch.Restart()
        $server = Start-GoqServer -Home $queueHome
        $backSec = $watch.Elapsed.TotalSeconds
        $waiting = (Get-GoqServer -Home $queueHome).WaitingJobs
        if ($waiting -ne $Count) { throw "after the restart: $waiting of $Count jobs waiting" }
        $job = Submit-GoqJob -Home $queueHome /bin/true | Wait-GoqJob -Home $queueHome -Timeout 120
        if ($job.State -ne 'Completed') { throw "after the restart, a job ended $($job.State)" }
        $dispatchSec = $watch.Elapsed.TotalSeconds
        $restarted = Get-RssMB $server.Pid
        [pscustomobject]@{ Rate10k = $rate10k; RateAll = $rateAll; BeforeMB = $before; QueuedMB = $queued; BackSec = $backSec; DispatchSec = $dispatchSec;
            RestartedMB = $restarted; HeartbeatSec = ([Goq.Configuration.GoqSettings]::Load($queueHome)).HeartbeatSec }
    }
    finally {
        try { Stop-GoqWorker -Home $queueHome -Idle | Out-Null } catch { Write-Warning "stopping the queue run's worker: $_" }
        try { Stop-GoqServer -Confirm:$false -Home $queueHome | Out-Null } catch { Write-Warning "stopping the queue run's server: $_" }
        $null = Stop-GoqHomeProcess $queueHome
        Remove-Item -Recurse -Force $queueHome -ErrorAction SilentlyContinue
    }
}
