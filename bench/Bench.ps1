#Requires -Version 7.6
<#
.SYNOPSIS
    Goq's benchmark: every number comes from one run on this machine, so ratios between them are meaningful.
.DESCRIPTION
    1. The raw rate of starting and reaping /bin/true from .NET (stdout and stderr redirected and read, as a worker does).
    2. -Jobs trivial jobs (/bin/true, no shell) submitted in bulk through the pipeline to a local server with one
       worker of 2 slots: bulk submit rate, and end-to-end rate from the first submit to the last completion.
    3. -Single jobs submitted one at a time to an idle worker: submit-to-start latency, p50 and p99, from the call of
       Submit-GoqJob until the job's program runs (it prints the time: date +%s%N), beside the floor: this pwsh starting
       the same program itself.
    2b, 3b. task-spooler (`tsp`, installed when missing and allowed) on the same work, run first, before any Goq process:
       -Jobs `tsp /bin/true` from a bash loop with TS_SLOTS=2 and a TMPDIR and socket of its own, end to end, from the
       bench's driver and again as the plain bash script anyone can paste (Get-PeerLoop), with Goq's ratio to it; and the
       same submit-to-start measurement. A tsp job is three processes (the client bash starts, the waiter it leaves, the
       job) where a Goq job is one, so the ratio grows as process starts slow down: read it beside the spawn rate (1).
    4. -DurableJobs (10,000) submitted in bulk the same way: bulk submit and end-to-end rates at that size, and the CPU
       time each process used per job meanwhile (Linux), which bounds the end-to-end rate on a small host.
    5. The same -DurableJobs run with one worker of -ManySlots (32) slots: more jobs in flight than cores, so the rate is
       bound by CPU rather than by the round trip that refills a slot.
    6. The machine's own ceiling for the same job: /bin/true run -DurableJobs times by xargs with one process per core
       (GNU xargs, a small C program: no queue, no network, no store). End-to-end rates are also given as a fraction of it.
    5b. The same with a job keeper, as Start-GoqWorker does by default (runs 2-5 use -NoJobKeeper, so the CPU of one
       worker process is measured): what keeping jobs across a worker restart costs, as end-to-end rate and CPU per job
       (relay + keeper as "worker"). Runs 7 and 8 use the default too.
    7. Receive-GoqJob on a job's -OutputMB of output (lines of 1,000 bytes): MB/s read from the file (this host sees it)
       and through the server (-ViaServer), after the job ended.
    7b. The first Get-Job of a new session (a pwsh of its own) over the recent jobs, one of which printed -GetJobMB: the
       seconds Get-Job takes, then the HasMoreData of every job (what its table shows), and the managed heap it added.
    8. The worker's peak memory above its idle size while one job writes -FloodMB as fast as it can (back-pressure).
    8b. One job writing -StreamMB of short lines (`seq 1 N`, about 9 bytes a line) on the worker with its keeper: MB/s
       end to end (submit until the job is Completed and its output file holds every byte), the job's run time
       (StartedAt to FinishedAt) beside the same command alone in bash writing to a file on the same disk, and the ratio.
    9. -ScriptJobs trivial script-block jobs ([pscustomobject]@{ i = $_ }, one per pipeline record) on one worker of 2
       slots (with its job keeper, the default), from the first submit to the last object returned by Receive-GoqJob;
       and, in the same run, ForEach-Object -Parallel -ThrottleLimit 2 over the same script block (in-process, local,
       not durable), with the ratio; and the CPU each process used per job meanwhile (Linux).
    10. A chain of -ChainJobs jobs, each depending on the one before, whose head fails: how long from the head's release
       until Wait-GoqJob has heard that every job after it ended DependencyFailed.
    11. An array of -ArrayTasks tasks (-ArrayIndex 0..N-1) in a queue no worker serves: how long Submit-GoqJob takes to
       return it, the server's resident memory before and after (so the array stays whole on the server), how long
       Get-GoqJob takes to list every task, and how long Stop-GoqJob takes to cancel them all.
    12. -HeavyJobs jobs each writing -HeavyMB of 100-byte lines, on the 2-slot worker: MB/s of output through the server
       to its files (every line durable, fsynced as always), first submit to last end.
    12b. -SimWorkers (1,000) simulated workers (tests/SimWorkers: the real protocol over real sockets, CURVE and MACs,
       jobs that take no time) in -SimProcesses processes: how long until the server counts them all, its CPU and memory
       with them idle, the dispatch rate of -SimJobs tasks released at once, and how soon one that hangs is declared dead.
    13. A history of -HistoryJobs ended jobs (arrays in a queue no worker serves, cancelled): the time Get-GoqJob takes to
       write its first object and all of them, Get-GoqJob -State Running, the server's memory, and submit-to-start p50
       of jobs submitted while a full listing runs.
    14. -WaitingJobs (1,000,000) jobs waiting in a queue no worker serves, each its own 80-character command, on a server
       of their own: submit rates (first 10,000, the rest), the server's memory, and a restart with them all back.
    15. The server serves metrics throughout (-MetricsPort, as an operator runs it). -ScrapeJobs jobs end to end, three
       rounds without scraping and three with a scraper GETting /metrics every 100 ms (a process of its own), alternated
       in one run: the rates, the ratio of the medians beside the spread between unscraped rounds (the noise), and what
       one scrape costs (time, server CPU, bytes).
    16. The dashboard over the store after run 13 (a million jobs): what its first load transfers, how long each API
       answer takes, and how long headless Chromium (when installed) takes until the page shows its data, beside the same
       Chromium loading a blank page.
    17. Tab completion of Get-GoqJob -Id as a user gets it (TabExpansion2), -Completions times with the home's server up
       and again with a home whose server is down: ms p50 / p99, and how many answers were empty (the completer gives
       up at 300 ms and offers nothing rather than keep the user waiting).
    18. Stopping a running script-block job whose runner started a child (sleep), -ScriptStops times on a worker of its
       own (with its job keeper): ms from Stop-GoqJob until Wait-GoqJob has it Cancelled, and until the child is gone
       (polled every 5 ms), p50 and the slowest of each.
    19. The PostgreSQL store against SQLite on the same work (and the waiting queue of -WaitingJobs, as in 14, on it): -StoreJobs trivial jobs A B A B, three rounds, a home of
       each kind with one server and a worker of 2 slots; bulk submit and end-to-end rates, medians' ratio. The database
       is a throw-away PostgreSQL on this host (fsync on), as tools/TestPostgres.ps1 makes it.
    20. Take-over: two servers on one PostgreSQL store, a worker, a stream of submits; -FailoverRounds times the active
       server is killed -9: seconds from the kill until a submit is answered again and until a job submitted after the
       kill starts, with the lease settings that gave them; every job of the stream must complete, none run twice.
    The server's store is durable throughout (SQLite, WAL, synchronous=FULL): every job is committed before its ack.
#>
param([int] $Jobs = 2000, [int] $Single = 50, [int] $Spawns = 1000, [int] $DurableJobs = 10000, [int] $ManySlots = 32,
    [int] $OutputMB = 200, [int] $FloodMB = 1000, [int] $StreamMB = 200, [int] $ScriptJobs = 2000, [int] $ChainJobs = 10000, [int] $ArrayTasks = 100000,
    [int] $HeavyJobs = 100, [int] $HeavyMB = 10, [int] $SimWorkers = 1000, [int] $SimProcesses = 4, [int] $SimJobs = 20000,
    [int] $HistoryJobs = 1000000, [int] $WaitingJobs = 1000000, [int] $ScrapeJobs = 2000, [int] $GetJobMB = 55, [int] $Completions = 50,
    [int] $ScriptStops = 5, [int] $MultiUserJobs = 2000, [int] $StoreJobs = 5000, [int] $FailoverRounds = 3)

$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module (Join-Path $PSScriptRoot '../module/Goq.psd1')
. (Join-Path $PSScriptRoot '../tools/Helpers.ps1')
. (Join-Path $PSScriptRoot 'Scale.ps1')
. (Join-Path $PSScriptRoot 'Monitoring.ps1')
. (Join-Path $PSScriptRoot 'SharedStore.ps1')

function Measure-SpawnRate([int] $Count) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/true')
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Count; $i++) {
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        $null = $p.StandardOutput.ReadToEnd()
        $null = $p.StandardError.ReadToEnd()
        $p.WaitForExit()
        $p.Dispose()
    }
    $Count / $watch.Elapsed.TotalSeconds
}

# /bin/true run $Count times by xargs, $Parallel at a time: what this machine can do without any job queue.
function Measure-XargsRate([int] $Count, [int] $Parallel) {
    $xargs = Get-Command xargs -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $xargs) { return $null }
    $list = New-TemporaryFile
    try {
        Set-Content -LiteralPath $list -Value (1..$Count)
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        & $xargs.Source -a $list -P $Parallel -n 1 /bin/true
        if ($LASTEXITCODE -ne 0) { throw "xargs failed with exit code $LASTEXITCODE" }
        $Count / $watch.Elapsed.TotalSeconds
    }
    finally {
        Remove-Item -LiteralPath $list -ErrorAction SilentlyContinue
    }
}

# task-spooler (Debian's task-spooler, `tsp`), the one-host peer: installed here when missing and allowed (root with
# apt-get), else $null with the reason in $script:TspMissing.
function Get-TaskSpooler {
    $tsp = Get-Command tsp -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $tsp -and $IsLinux -and (id -u) -eq '0' -and (Get-Command apt-get -ErrorAction SilentlyContinue)) {
        $null = apt-get install -y task-spooler 2>&1
        if ($LASTEXITCODE -ne 0) { $null = apt-get update 2>&1; $null = apt-get install -y task-spooler 2>&1 }
        $tsp = Get-Command tsp -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    }
    if (-not $tsp) { $script:TspMissing = 'tsp is not installed and could not be (apt-get install task-spooler needs root and the Debian registry)' }
    $tsp.Source
}

# task-spooler on the same work, run as its users run it: a folder of its own for TMPDIR and TS_SOCKET, TS_SLOTS=$Slots,
# its other settings left alone, its server started by the first client of the loop; $Count `tsp /bin/true` from a
# bash loop (a tsp client is a process per job, and it stays, detached, until its job has run), then `tsp -w` for the
# last, timed as a whole. Run twice: from this pwsh (the bench's driver) and as the plain bash script anyone can paste
# ($PeerLoop prints it), so the peer's figure can be checked by hand. Then $Single submits from this pwsh, each timed
# until the job (date +%s%N) has printed the time it started. Rates and latencies in the same units as Goq's.
# (The driver once shared /tmp with everything else, kept 100,000 finished jobs and ran beside Goq's idle server and
# worker; it now runs before they start.)
function Measure-TaskSpooler([string] $Tsp, [int] $Count, [int] $Slots, [int] $Single) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench-tsp-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $dir | Out-Null
    $saved = @{ TMPDIR = $env:TMPDIR; TS_SOCKET = $env:TS_SOCKET; TS_SLOTS = $env:TS_SLOTS }
    $env:TMPDIR = $dir
    $env:TS_SOCKET = Join-Path $dir 'socket'
    $env:TS_SLOTS = "$Slots"
    try {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        bash -c "for i in `$(seq $Count); do '$Tsp' /bin/true >/dev/null; done; '$Tsp' -w >/dev/null"
        $endToEnd = $Count / $watch.Elapsed.TotalSeconds
        & $Tsp -K 2>$null | Out-Null
        Get-ChildItem $dir -Filter 'ts-out.*' | Remove-Item

        # The same loop as a plain bash script, timed by bash itself.
        $script = Join-Path $dir 'peer-loop.sh'
        Set-Content -LiteralPath $script -Value (Get-PeerLoop $Tsp $Count $Slots $dir)
        $printed = bash $script
        $plain = [double](($printed | Select-Object -Last 1) -replace '[^0-9.]', '')
        & $Tsp -K 2>$null | Out-Null

        $env:TS_SOCKET = Join-Path $dir 'socket'
        $latencies = if ($Single -gt 0) {
            foreach ($i in 1..$Single) {
                $before = Get-UnixMs
                $id = & $Tsp /usr/bin/date '+%s%N'
                & $Tsp -w $id | Out-Null
                Get-StartLatency (Get-Content -LiteralPath (& $Tsp -o $id)) $before
            }
        }
        [pscustomobject]@{ EndToEnd = $endToEnd; PlainLoop = $plain; Latencies = $latencies }
    }
    finally {
        & $Tsp -K 2>$null | Out-Null
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    }
}

# The peer's loop as a user types it: a fresh TMPDIR and socket, TS_SLOTS, N submits, wait for the last; prints jobs/s.
function Get-PeerLoop([string] $Tsp, [int] $Count, [int] $Slots, [string] $Dir) {
    @"
export TMPDIR='$Dir' TS_SOCKET='$Dir/plain.socket' TS_SLOTS=$Slots
start=`$(date +%s.%N)
for i in `$(seq $Count); do '$Tsp' /bin/true >/dev/null; done; '$Tsp' -w >/dev/null
end=`$(date +%s.%N)
awk "BEGIN { print \"jobs/s\", $Count / (`$end - `$start) }"
"@
}

# The job's first instruction is timed by the job itself: `date +%s%N` prints the time its program started (give or
# take the loader's work, which every spawn here pays). A file's mtime cannot time it: on this kernel a new file's
# times come from the coarse clock, up to a tick (4 ms) early, so spawn-to-touch read as less than nothing.
function Get-UnixMs { ([DateTime]::UtcNow - [DateTime]::UnixEpoch).TotalMilliseconds }

function Get-StartLatency($DateOutput, [double] $Before) {
    $nanoseconds = "$DateOutput".Trim()
    if ($nanoseconds -notmatch '^\d{19}$') { throw "the timing job printed '$nanoseconds', not date +%s%N" }
    [double]$nanoseconds / 1e6 - $Before
}

# Submit-to-start: from the call of Submit-GoqJob in this (warm) pwsh until the job's program runs; one job at a time
# to an idle worker.
function Measure-Latency([string] $GoqHome, [int] $Single) {
    foreach ($i in 1..$Single) {
        $before = Get-UnixMs
        $job = Submit-GoqJob -Home $GoqHome /usr/bin/date -ArgumentList '+%s%N' | Wait-GoqJob -Home $GoqHome -Timeout 60
        if ($job.State -ne 'Completed') { throw "latency job $($job.Id): $($job.State) $($job.Reason)" }
        Get-StartLatency ($job | Receive-GoqJob -Home $GoqHome) $before
    }
}

# The floor under any queue's submit-to-start here: this pwsh starting the same program itself (Process.Start), timed
# the same way.
function Measure-SpawnFloor([int] $Single) {
    foreach ($i in 1..$Single) {
        $start = [System.Diagnostics.ProcessStartInfo]::new('/usr/bin/date')
        $start.ArgumentList.Add('+%s%N')
        $start.RedirectStandardOutput = $true
        $before = Get-UnixMs
        $process = [System.Diagnostics.Process]::Start($start)
        $printed = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $process.Dispose()
        Get-StartLatency $printed $before
    }
}

# Submits $Count trivial jobs through the pipeline, waits for all, and returns the two rates.
function Measure-Bulk([string] $GoqHome, [int] $Count) {
    $t0 = [DateTimeOffset]::UtcNow
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $submitted = 1..$Count | ForEach-Object { '/bin/true' } | Submit-GoqJob -Home $GoqHome -ArgumentList @()
    $submitSec = $watch.Elapsed.TotalSeconds
    $done = $submitted | Wait-GoqJob -Home $GoqHome -Timeout 1800
    $lastEnd = ($done | Measure-Object -Property FinishedAt -Maximum).Maximum
    $failed = @($done | Where-Object State -NE 'Completed').Count
    if ($done.Count -ne $Count -or $failed -gt 0) { throw "bulk run: $($done.Count) of $Count jobs ended, $failed not Completed" }
    [pscustomobject]@{ Submit = $Count / $submitSec; EndToEnd = $Count / ($lastEnd - $t0).TotalSeconds }
}

# Script-block jobs end to end (submit, run, every object back) against ForEach-Object -Parallel on the same block,
# with the CPU each process used per job meanwhile (Linux): this pwsh, the server, the relay, the job keeper, its runners.
function Measure-ScriptJobs([string] $GoqHome, [int] $Count, [int] $ServerPid, $Worker) {
    $block = { [pscustomobject]@{ i = $_ } }
    $null = 1..50 | Submit-GoqJob -Home $GoqHome -ScriptBlock $block | Wait-GoqJob -Home $GoqHome -Timeout 300 # warm runners
    $keeperPid = (Get-Content -Raw (Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$($Worker.Id).keeper").FullName | ConvertFrom-Json).Pid
    $processes = [ordered]@{ client = $PID; server = $ServerPid; relay = $Worker.Pid; keeper = $keeperPid }
    Get-Process | Where-Object { $_.Parent.Id -eq $keeperPid } | ForEach-Object -Begin { $n = 0 } -Process { $processes["runner$n"] = $_.Id; $n++ }
    $cpuNow = { @($processes.Values | ForEach-Object { try { (Get-CpuSeconds $_).Own } catch { [double]::NaN } }) } # NaN: it exited meanwhile
    $before = & $cpuNow
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $jobs = 1..$Count | Submit-GoqJob -Home $GoqHome -ScriptBlock $block
    $done = $jobs | Wait-GoqJob -Home $GoqHome -Timeout 1800
    $objects = @($jobs | Receive-GoqJob -Home $GoqHome)
    $goq = $Count / $watch.Elapsed.TotalSeconds
    $after = & $cpuNow
    $failed = @($done | Where-Object State -NE 'Completed').Count
    if ($objects.Count -ne $Count -or $failed -gt 0 -or ($objects.i | Measure-Object -Sum).Sum -ne ($Count * ($Count + 1) / 2)) {
        throw "script-block run: $($objects.Count) of $Count objects back, $failed jobs not Completed"
    }
    $names = @($processes.Keys)
    $ms = for ($i = 0; $i -lt $names.Count; $i++) { if ([double]::IsNaN($after[$i])) { 0.0 } else { ($after[$i] - $before[$i]) * 1000 / $Count } }
    $runners = ($ms | Select-Object -Skip 4 | Measure-Object -Sum).Sum
    $cpu = '{0:N2} / {1:N2} / {2:N2} / {3:N2} / {4:N2} (total {5:N2})' -f $ms[0], $ms[1], $ms[2], $ms[3], $runners, (($ms | Measure-Object -Sum).Sum)
    $watch.Restart()
    $local = @(1..$Count | ForEach-Object -Parallel $block -ThrottleLimit 2)
    $parallel = $local.Count / $watch.Elapsed.TotalSeconds
    [pscustomobject]@{ Goq = $goq; Parallel = $parallel; Cpu = $cpu }
}

# A chain of $Count jobs, each depending on the one before, whose head fails: how long from releasing the head until
# Wait-GoqJob has heard that the head failed and the last job ended DependencyFailed (the head noticing its release,
# failing and being reported, the server ending the whole chain in one turn and committing it, the notices).
function Measure-DependencyChain([string] $GoqHome, [int] $Count) {
    $flag = Join-Path $GoqHome 'chain-release'
    $head = Submit-GoqJob -Home $GoqHome "while [ ! -e '$flag' ]; do sleep 0.01; done; exit 1"
    # One job a request (each names the id the one before got), through the engine's client: the cmdlet's own start-up
    # for each of 10,000 calls would make building the chain the slow part.
    $client = [Goq.Client.GoqClient]::ForHome([Goq.Configuration.GoqSettings]::Load($GoqHome))
    try {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $last = $head.Id
        for ($i = 1; $i -lt $Count; $i++) {
            $spec = [Goq.JobSpec]@{ Kind = 'Shell'; Command = 'true'; WorkingDirectory = $GoqHome; DependsOn = [long[]]@($last) }
            $last = $client.SubmitAsync([Goq.JobSpec[]]@($spec)).GetAwaiter().GetResult()[0].Id
        }
        $buildSec = $watch.Elapsed.TotalSeconds
    }
    finally { $client.Dispose() }
    New-Item -ItemType File $flag | Out-Null
    $watch.Restart()
    $ended = Wait-GoqJob -Home $GoqHome $head.Id, $last -Timeout 600 | Sort-Object Id
    $heard = $watch.Elapsed.TotalMilliseconds
    if ($ended[0].State -ne 'Failed' -or $ended[1].State -ne 'DependencyFailed') { throw "dependency chain: ended $($ended.State -join ', ')" }
    [pscustomobject]@{ BuildSec = $buildSec; HeardMs = $heard }
}

# An array of $Count tasks that no worker serves: submit time, the server's resident memory before and after, listing
# and cancelling every task.
function Measure-Array([string] $GoqHome, [int] $Count, [int] $ServerPid) {
    $rss = { [double]((Get-Content "/proc/$ServerPid/status" | Where-Object { $_ -like 'VmRSS:*' }) -replace '[^0-9]', '') / 1024 }
    $before = & $rss
    $indices = [int[]](0..($Count - 1))
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $array = Submit-GoqJob -Home $GoqHome 'true' -ArrayIndex $indices -Queue bench-array
    $submitMs = $watch.Elapsed.TotalMilliseconds
    if ($array.TaskCount -ne $Count) { throw "array: $($array.TaskCount) tasks" }
    $after = & $rss
    $watch.Restart()
    $listed = (Get-GoqJob -Home $GoqHome $array.Id | Measure-Object).Count
    $listSec = $watch.Elapsed.TotalSeconds
    if ($listed -ne $Count) { throw "array: $listed tasks listed" }
    $watch.Restart()
    Stop-GoqJob -Home $GoqHome $array.Id
    $cancelSec = $watch.Elapsed.TotalSeconds
    [pscustomobject]@{ SubmitMs = $submitMs; BeforeMB = $before; AfterMB = $after; ListSec = $listSec; CancelSec = $cancelSec }
}

# $Count jobs each writing $MB of 100-byte lines: MB/s through the server to disk.
function Measure-OutputHeavy([string] $GoqHome, [int] $Count, [int] $MB) {
    $command = "yes $('h' * 99) | head -n $($MB * 10000)"
    $t0 = [DateTimeOffset]::UtcNow
    $jobs = 1..$Count | ForEach-Object { $command } | Submit-GoqJob -Home $GoqHome
    $done = $jobs | Wait-GoqJob -Home $GoqHome -Timeout 3600
    if (@($done | Where-Object State -NE 'Completed').Count -gt 0) { throw 'output-heavy run: not every job completed' }
    $last = ($done | Measure-Object -Property FinishedAt -Maximum).Maximum
    $rate = $Count * $MB / ($last - $t0).TotalSeconds
    $null = Remove-GoqJob -Home $GoqHome $jobs.Id
    $rate
}

# A history of $Count ended jobs (arrays nobody serves, cancelled), then what listing it costs.
function Measure-History([string] $GoqHome, [int] $Count, [int] $ServerPid) {
    $rss = { [double]((Get-Content "/proc/$ServerPid/status" | Where-Object { $_ -like 'VmRSS:*' }) -replace '[^0-9]', '') / 1024 }
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    # Arrays of 100,000: cancelling one writes every task's record in one turn, which for 250,000 took 3.7 s, near a
    # client's 5 s answer time on a busy host.
    for ($made = 0; $made -lt $Count; $made += 100000) {
        $size = [math]::Min(100000, $Count - $made)
        $array = Submit-GoqJob -Home $GoqHome 'true' -ArrayIndex ([int[]](0..($size - 1))) -Queue bench-history
        Stop-GoqJob -Home $GoqHome $array.Id
    }
    $buildSec = $watch.Elapsed.TotalSeconds
    $watch.Restart()
    $null = Get-GoqJob -Home $GoqHome | Select-Object -First 1
    $firstMs = $watch.Elapsed.TotalMilliseconds
    $watch.Restart()
    $all = (Get-GoqJob -Home $GoqHome | Measure-Object).Count
    $allSec = $watch.Elapsed.TotalSeconds
    $watch.Restart()
    $null = Get-GoqJob -Home $GoqHome -State Running
    $runningMs = $watch.Elapsed.TotalMilliseconds
    $memory = & $rss

    # Submit-to-start while another client lists the whole history: another user's pwsh (a process of its own; a thread
    # job in this one would time this process's collections of the lister's million objects, not the server).
    $module = (Get-Module Goq).Path
    $listing = Join-Path $GoqHome 'history-listing'
    $lister = Start-Job { param($m, $h, $flag) Import-Module $m; New-Item $flag | Out-Null; (Get-GoqJob -Home $h | Measure-Object).Count } -ArgumentList $module, $GoqHome, $listing
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path $listing) -and $lister.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
    Start-Sleep -Milliseconds 200 # its first pages
    $during = Measure-Latency $GoqHome 20
    $stillListing = $lister.State -eq 'Running'
    $listed = $lister | Wait-Job | Receive-Job
    Remove-Job $lister
    if (-not $stillListing -or $listed -lt $all) { Write-Warning "the listing ended before the timing did, or listed $listed of $all" }
    [pscustomobject]@{ BuildSec = $buildSec; FirstMs = $firstMs; All = $all; AllSec = $allSec; RunningMs = $runningMs; MemoryMB = $memory;
        DuringP50 = Get-Percentile $during 50 }
}

# CPU time used so far, in seconds: by the process itself, and by its children that have exited (the jobs).
function Get-CpuSeconds([int] $ProcessId) {
    if (-not $IsLinux) { return [pscustomobject]@{ Own = 0.0; Children = 0.0 } }
    $fields = ((Get-Content "/proc/$ProcessId/stat" -Raw) -split '\) ')[1] -split ' '
    $tick = 100.0 # USER_HZ: clock ticks per second on Linux
    [pscustomobject]@{ Own = ([double]$fields[11] + [double]$fields[12]) / $tick; Children = ([double]$fields[13] + [double]$fields[14]) / $tick }
}

# CPU seconds of this pwsh, the server and the worker now (see Get-CpuSeconds).
function Get-CpuSnapshot([int] $ServerPid, [int] $WorkerPid) {
    @((Get-CpuSeconds $PID), (Get-CpuSeconds $ServerPid), (Get-CpuSeconds $WorkerPid))
}

# CPU ms per job between two snapshots: client, server, worker, and the jobs (the worker's exited children).
function Get-CpuPerJob($Before, $After, [int] $Count) {
    $ms = { param($i, $what) [math]::Round(($After[$i].$what - $Before[$i].$what) * 1000 / $Count, 3) }
    (& $ms 0 'Own'), (& $ms 1 'Own'), (& $ms 2 'Own'), (& $ms 2 'Children')
}

# MB/s of Receive-GoqJob over a finished job's output, read from its file here and through the server.
function Measure-Receive([string] $GoqHome, [int] $MB) {
    $job = Submit-GoqJob -Home $GoqHome "yes $('r' * 999) | head -n $($MB * 1000)" | Wait-GoqJob -Home $GoqHome -Timeout 1800
    $rates = foreach ($viaServer in $false, $true) {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $lines = (Receive-GoqJob -Home $GoqHome $job.Id -ViaServer:$viaServer | Measure-Object).Count
        if ($lines -ne $MB * 1000) { throw "Receive-GoqJob returned $lines lines of $($MB * 1000)" }
        [math]::Round($MB / $watch.Elapsed.TotalSeconds, 1)
    }
    $null = Remove-GoqJob -Home $GoqHome $job.Id
    $rates
}

# The first Get-Job of a new session, with a job that printed $MB among the recent ones: s for Get-Job, s for the
# HasMoreData of all it lists, managed heap MB it added, and how many jobs it listed.
function Measure-FirstGetJob([string] $GoqHome, [int] $MB) {
    $big = Submit-GoqJob -Home $GoqHome "yes $('g' * 99) | head -n $($MB * 10000)" | Wait-GoqJob -Home $GoqHome -Timeout 1800
    $script = "Import-Module '$((Get-Module Goq).Path)'; `$env:GOQ_HOME = '$GoqHome'; `$null = Get-Command Get-Job; " +
        "`$before = [GC]::GetTotalMemory(`$true); `$w = [Diagnostics.Stopwatch]::StartNew(); `$all = @(Get-Job); `$s = `$w.Elapsed.TotalSeconds; " +
        "`$after = [GC]::GetTotalMemory(`$true); `$w.Restart(); `$null = `$all.HasMoreData; " +
        "'{0}|{1}|{2}|{3}' -f `$s, `$w.Elapsed.TotalSeconds, ((`$after - `$before) / 1MB), `$all.Count"
    $getJob, $hasMore, $heapMB, $count = (& (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $script) -split '\|'
    $null = Remove-GoqJob -Home $GoqHome $big.Id
    [pscustomobject]@{ GetJobSec = [double]$getJob; HasMoreSec = [double]$hasMore; HeapMB = [double]$heapMB; Jobs = [int]$count }
}

# Peak resident memory of the worker (its relay and its keeper, which reads the job's pipes) above their idle size
# (MB) while one job writes $MB as fast as it can.
function Measure-WorkerFlood([string] $GoqHome, [int] $MB) {
    $worker = Start-GoqWorker -Home $GoqHome -Slots 1
    $keeperPid = (Get-Content -Raw (Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$($worker.Id).keeper").FullName | ConvertFrom-Json).Pid
    $memory = { param($name) ($worker.Pid, $keeperPid | ForEach-Object { [double]((Get-Content "/proc/$_/status" | Where-Object { $_ -like "${name}:*" }) -replace '[^0-9]', '') / 1024 } | Measure-Object -Sum).Sum }
    $idle = & $memory 'VmRSS'
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $job = Submit-GoqJob -Home $GoqHome "yes $('f' * 999) | head -n $($MB * 1000)" | Wait-GoqJob -Home $GoqHome -Timeout 1800
    $seconds = $watch.Elapsed.TotalSeconds
    if ($job.State -ne 'Completed' -or (Get-Item $job.OutputPath).Length -ne $MB * 1000000) { throw "the flood job ended $($job.State) or lost output" }
    $peak = & $memory 'VmHWM'
    Stop-GoqWorker -Home $GoqHome -Id $worker.Id | Out-Null
    Remove-Item $job.OutputPath
    [pscustomobject]@{ IdleMB = [math]::Round($idle); AboveIdleMB = [math]::Round($peak - $idle); MBps = [math]::Round($MB / $seconds, 1) }
}

# One job writing about $MB of `seq` lines: end to end MB/s, and its run time against the same command alone.
function Measure-JobStream([string] $GoqHome, [int] $MB, [int] $ServerPid) {
    $count = [long]([long]$MB * 1000000 / 9) # seq 1 N: about 9 bytes a line at these sizes (an integer: a fractional end puts seq on its slow floating-point path)
    $command = "seq 1 $count"
    $alone = Join-Path $GoqHome 'stream-alone.txt'
    $null = bash -c "$command > $alone" # warm the page cache and seq
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    bash -c "$command > $alone"
    $aloneSec = $watch.Elapsed.TotalSeconds
    $bytes = (Get-Item $alone).Length
    Remove-Item $alone
    $worker = Start-GoqWorker -Home $GoqHome -Slots 1 -Queue bench-stream # its own queue: the job runs here, with a keeper
    $keeperPid = (Get-Content -Raw (Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$($worker.Id).keeper").FullName | ConvertFrom-Json).Pid
    $cpu = { @((Get-CpuSeconds $ServerPid), (Get-CpuSeconds $worker.Pid), (Get-CpuSeconds $keeperPid)) }
    try {
        $before = & $cpu
        $watch.Restart()
        $job = Submit-GoqJob -Home $GoqHome $command -Queue bench-stream | Wait-GoqJob -Home $GoqHome -Timeout 1800
        while ((Get-Item $job.OutputPath -ErrorAction SilentlyContinue).Length -lt $bytes -and $watch.Elapsed.TotalSeconds -lt 1800) { Start-Sleep -Milliseconds 20 }
        $seconds = $watch.Elapsed.TotalSeconds
        $after = & $cpu
        # Where the time went: CPU seconds of the server, the relay, the keeper (own) and the job (the keeper's children).
        $used = '{0:N1} / {1:N1} / {2:N1} / {3:N1}' -f ($after[0].Own - $before[0].Own), ($after[1].Own - $before[1].Own), ($after[2].Own - $before[2].Own), ($after[2].Children - $before[2].Children)
        if ($job.State -ne 'Completed' -or (Get-Item $job.OutputPath).Length -ne $bytes) { throw "the stream job ended $($job.State) or its output is not $bytes bytes" }
        $jobSec = ($job.FinishedAt - $job.StartedAt).TotalSeconds
        Remove-Item $job.OutputPath
        $null = Remove-GoqJob -Home $GoqHome $job.Id
    }
    finally {
        Stop-GoqWorker -Home $GoqHome -Id $worker.Id | Out-Null
    }
    [pscustomobject]@{ MB = [math]::Round($bytes / 1MB); MBps = [math]::Round($bytes / 1MB / $seconds, 1); JobSec = $jobSec; AloneSec = $aloneSec; Ratio = $aloneSec / $jobSec; Cpu = $used }
}

# Tab completion of Get-GoqJob -Id, as TabExpansion2 gives it: ms for each of $Count completions with this home's
# server up, then with a home whose server is down, and how many answers offered no id at all.
function Measure-Completion([string] $GoqHome, [int] $Count) {
    $complete = { param($Line) @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | Where-Object ResultType -EQ 'ParameterValue') }
    $timed = {
        param($Line)
        $null = & $complete $Line # warm: the completer connects to a server once and keeps its client
        foreach ($i in 1..$Count) {
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $offered = (& $complete $Line).Count
            [pscustomobject]@{ Ms = $watch.Elapsed.TotalMilliseconds; Empty = $offered -eq 0 }
        }
    }
    $up = & $timed "Get-GoqJob -Home '$GoqHome' -Id "
    $down = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench-down-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    try {
        Initialize-GoqHome -Path $down -Port (Get-FreePort) | Out-Null # no server is started on it
        $stopped = & $timed "Get-GoqJob -Home '$down' -Id "
    }
    finally { Remove-Item -Recurse -Force $down -ErrorAction SilentlyContinue }
    [pscustomobject]@{ Up = [double[]]$up.Ms; UpEmpty = @($up | Where-Object Empty).Count; Down = [double[]]$stopped.Ms }
}

# Stopping a running script-block job: ms from Stop-GoqJob until Wait-GoqJob has it Cancelled, and until the child
# (sleep) its runner started is gone too; on a worker of its own, with its job keeper (the default).
function Measure-ScriptStop([string] $GoqHome, [int] $Count) {
    # A child no other process on the machine has on its command line, so finding it finds ours.
    $seconds = "300.$(Get-Random -Minimum 100000 -Maximum 999999)"
    $child = "sleep $seconds"
    $worker = Start-GoqWorker -Home $GoqHome -Slots 1 -Queue bench-stop
    try {
        foreach ($i in 0..$Count) {
            $job = Submit-GoqJob -Home $GoqHome { param($Seconds) sleep $Seconds } -ArgumentList $seconds -Queue bench-stop
            $deadline = [DateTime]::UtcNow.AddSeconds(120) # the first job starts the worker's runner
            while (-not ((Get-GoqJob -Home $GoqHome $job.Id).State -eq 'Running' -and (Get-GoqHomeProcess $child))) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "script-block stop: job $($job.Id) did not start '$child' within 120 s" }
                Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline above
            }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-GoqJob -Home $GoqHome $job.Id | Out-Null
            $done = Wait-GoqJob -Home $GoqHome $job.Id -Timeout 60
            $ms = $watch.Elapsed.TotalMilliseconds
            if ($done.State -ne 'Cancelled') { throw "script-block stop: job $($job.Id) ended $($done.State), not Cancelled" }
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (Get-GoqHomeProcess $child) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "script-block stop: '$child' of job $($job.Id) outlived it by 30 s" }
                Start-Sleep -Milliseconds 5 # poll step, bounded by the deadline above
            }
            $goneMs = $watch.Elapsed.TotalMilliseconds
            $null = Remove-GoqJob -Home $GoqHome $job.Id
            if ($i -gt 0) { [pscustomobject]@{ Ms = $ms; GoneMs = $goneMs } } # the first is a warm-up
        }
    }
    finally {
        Stop-GoqWorker -Home $GoqHome -Id $worker.Id | Out-Null
    }
}

# The same bulk run in a one-secret home and in a multi-user home (each a server and a 2-slot worker of its own, both up
# throughout), round after round, A B A B: what per-user keys cost. In the multi-user home the jobs are a throw-away
# user's, submitted with their key and run as them (setpriv) by the root worker; the submit rate is the signing and
# checking alone, the end-to-end rate includes the hop through setpriv. Needs root and useradd; else the reason.
function Measure-MultiUser([int] $Count, [int] $Rounds = 3) {
    if (-not $IsLinux -or (& id -u) -ne '0' -or -not (Get-Command useradd -ErrorAction SilentlyContinue) -or -not (Test-Path /usr/bin/setpriv)) {
        return 'skipped: needs root, useradd and setpriv to make a throw-away user'
    }
    $user = 'goqbench' + [guid]::NewGuid().ToString('N').Substring(0, 6)
    $homes = @()
    & useradd -m $user 2>&1 | Out-Null
    try {
        $userHome = (& getent passwd $user).Split(':')[5]
        $one = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench1-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $multi = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-benchm-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $homes = @($one, $multi)
        New-Item -ItemType Directory $one, $multi | Out-Null
        Initialize-GoqHome -Path $one -Port (Get-FreePort) | Out-Null
        Initialize-GoqHome -Path $multi -Port (Get-FreePort) -MultiUser | Out-Null
        foreach ($h in $homes) {
            $null = Start-GoqServer -Home $h
            $null = Start-GoqWorker -Home $h -Slots 2 -NoJobKeeper
        }
        $null = Grant-GoqUser -Home $multi -User $user
        $run = {
            param($Which, $N)
            if ($Which -eq 'one') { Push-Location $one; try { Measure-Bulk $one $N } finally { Pop-Location } }
            else { Push-Location $userHome; try { Measure-Bulk $userHome $N } finally { Pop-Location } }
        }
        $null = & $run 'one' 200; $null = & $run 'multi' 200 # warm-up
        $results = foreach ($round in 1..$Rounds) {
            [pscustomobject]@{ One = & $run 'one' $Count; Multi = & $run 'multi' $Count }
        }
        [pscustomobject]@{
            OneSubmit = $results.One.Submit; MultiSubmit = $results.Multi.Submit
            OneEnd = $results.One.EndToEnd; MultiEnd = $results.Multi.EndToEnd
            SubmitRatio = (Get-Median $results.Multi.Submit) / (Get-Median $results.One.Submit)
            EndRatio = (Get-Median $results.Multi.EndToEnd) / (Get-Median $results.One.EndToEnd)
        }
    }
    finally {
        foreach ($h in $homes) {
            try { Stop-GoqServer -Home $h -IncludeWorkers -Confirm:$false | Out-Null } catch { }
            $null = Stop-GoqHomeProcess $h
            Remove-Item -Recurse -Force $h -ErrorAction SilentlyContinue
        }
        & pkill -KILL -u $user 2>&1 | Out-Null
        & userdel -r $user 2>&1 | Out-Null
    }
}

function Get-Percentile([double[]] $Values, [double] $P) {
    $sorted = $Values | Sort-Object
    $sorted[[math]::Min($sorted.Count - 1, [math]::Ceiling($P / 100 * $sorted.Count) - 1)]
}

$goqHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory $goqHome | Out-Null
try {
    # The peer first, on a machine where no Goq process runs yet.
    $tsp = if ($Jobs -gt 0) { Get-TaskSpooler }
    $peer = if ($tsp) { Measure-TaskSpooler $tsp $Jobs 2 $Single }

    Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) | Out-Null
    # Metrics on, as an operator runs it: every figure below includes what they cost (a snapshot a tick).
    $server = Start-GoqServer -Home $goqHome -MetricsPort (Get-FreePort) -InformationAction Ignore
    $monitoring = Get-GoqServer -Home $goqHome -Detailed
    $worker = Start-GoqWorker -Home $goqHome -Slots 2 -NoJobKeeper
    Push-Location $goqHome

    # Warm up both processes (JIT, connections) so the runs below measure the steady state.
    $null = Measure-Bulk $goqHome 50
    $null = Measure-SpawnRate 100

    $spawnRate = Measure-SpawnRate $Spawns
    $bulk = if ($Jobs -gt 0) { Measure-Bulk $goqHome $Jobs }
    $null = Measure-Latency $goqHome 20 # warm
    $latencies = Measure-Latency $goqHome $Single
    $null = Measure-SpawnFloor 5
    $floor = Measure-SpawnFloor $Single
    $completion = if ($Completions -gt 0) { Measure-Completion $goqHome $Completions }
    # Where the CPU goes during the durable run, per job: what bounds the end-to-end rate on a small host.
    $before = Get-CpuSnapshot $server.Pid $worker.Pid
    $durable = if ($DurableJobs -gt 0) { Measure-Bulk $goqHome $DurableJobs }
    $cpu2 = if ($DurableJobs -gt 0) { Get-CpuPerJob $before (Get-CpuSnapshot $server.Pid $worker.Pid) $DurableJobs } else { @($null) * 4 }
    $scrape = if ($ScrapeJobs -gt 0) { Measure-ScrapeCost $goqHome $ScrapeJobs $monitoring.MetricsUrl $server.Pid }

    # The same run with many slots: CPU-bound rather than bound by the round trip that refills a slot.
    $many = $null
    if ($DurableJobs -gt 0 -and $ManySlots -gt 0) {
        Stop-GoqWorker -Home $goqHome -Idle
        Wait-Process -Id $worker.Pid -Timeout 60 -ErrorAction SilentlyContinue
        $worker = Start-GoqWorker -Home $goqHome -Slots $ManySlots -NoJobKeeper
        $null = Measure-Bulk $goqHome 500 # the new worker's warm-up
        $before = Get-CpuSnapshot $server.Pid $worker.Pid
        $many = Measure-Bulk $goqHome $DurableJobs
        $manyCpu = (Get-CpuPerJob $before (Get-CpuSnapshot $server.Pid $worker.Pid) $DurableJobs) -join ' / '

        # 5b: the same with a job keeper; the worker's CPU is the relay's and the keeper's, the jobs' the keeper's children.
        Stop-GoqWorker -Home $goqHome -Idle
        Wait-Process -Id $worker.Pid -Timeout 60 -ErrorAction SilentlyContinue
        $worker = Start-GoqWorker -Home $goqHome -Slots $ManySlots # the default: with a job keeper
        $keeperPid = (Get-Content -Raw (Get-ChildItem (Join-Path $goqHome '.goq/run') -Filter "*.$($worker.Id).keeper").FullName | ConvertFrom-Json).Pid
        $null = Measure-Bulk $goqHome 500
        $before = @(Get-CpuSnapshot $server.Pid $worker.Pid) + @(Get-CpuSeconds $keeperPid)
        $kept = Measure-Bulk $goqHome $DurableJobs
        $after = @(Get-CpuSnapshot $server.Pid $worker.Pid) + @(Get-CpuSeconds $keeperPid)
        $ms = { param($i, $what) ($after[$i].$what - $before[$i].$what) * 1000 / $DurableJobs }
        $keptCpu = '{0:N3} / {1:N3} / {2:N3} (relay {3:N3} + keeper {4:N3}) / {5:N3}' -f (& $ms 0 'Own'), (& $ms 1 'Own'), ((& $ms 2 'Own') + (& $ms 3 'Own')),
            (& $ms 2 'Own'), (& $ms 3 'Own'), (& $ms 3 'Children')
        Stop-GoqWorker -Home $goqHome -Idle
        Wait-Process -Id $worker.Pid, $keeperPid -Timeout 60 -ErrorAction SilentlyContinue
        $worker = Start-GoqWorker -Home $goqHome -Slots 2 -NoJobKeeper
    }
    $ceiling = if ($DurableJobs -gt 0) { Measure-XargsRate $DurableJobs ([Environment]::ProcessorCount) }
    $receive = if ($OutputMB -gt 0) { Measure-Receive $goqHome $OutputMB }
    $firstGetJob = if ($GetJobMB -gt 0) { Measure-FirstGetJob $goqHome $GetJobMB }
    $flood = if ($FloodMB -gt 0 -and $IsLinux) { Measure-WorkerFlood $goqHome $FloodMB }
    $stream = if ($StreamMB -gt 0 -and $IsLinux) { Measure-JobStream $goqHome $StreamMB $server.Pid }
    $scripts = $null
    if ($ScriptJobs -gt 0) {
        Stop-GoqWorker -Home $goqHome -Idle
        Wait-Process -Id $worker.Pid -Timeout 60 -ErrorAction SilentlyContinue
        $worker = Start-GoqWorker -Home $goqHome -Slots 2 # the default: with a job keeper
        $scripts = Measure-ScriptJobs $goqHome $ScriptJobs $server.Pid $worker
    }
    $stops = if ($ScriptStops -gt 0) { Measure-ScriptStop $goqHome $ScriptStops }
    $chain = if ($ChainJobs -gt 1) { Measure-DependencyChain $goqHome $ChainJobs }
    $array = if ($ArrayTasks -gt 0 -and $IsLinux) { Measure-Array $goqHome $ArrayTasks $server.Pid }
    $heavy = if ($HeavyJobs -gt 0) { Measure-OutputHeavy $goqHome $HeavyJobs $HeavyMB }
    $sims = if ($SimWorkers -gt 0 -and $IsLinux) { Measure-SimulatedWorkers $goqHome $SimWorkers $SimProcesses $SimJobs $server.Pid }
    $history = if ($HistoryJobs -gt 0 -and $IsLinux) { Measure-History $goqHome $HistoryJobs $server.Pid }
    $dashboard = if ($HistoryJobs -gt 0 -and $IsLinux) { Measure-Dashboard $monitoring.DashboardUrl }
    $queue = if ($WaitingJobs -gt 12000 -and $IsLinux) { Measure-WaitingQueue $WaitingJobs }
    $users = if ($MultiUserJobs -gt 0) { Measure-MultiUser $MultiUserJobs }
    $stores = if ($StoreJobs -gt 0) { Measure-PostgresStore $StoreJobs }
    $queuePg = if ($WaitingJobs -gt 12000 -and $IsLinux -and $StoreJobs -gt 0) { Measure-PostgresWaitingQueue $WaitingJobs }
    $failover = if ($FailoverRounds -gt 0) { Measure-Failover $FailoverRounds }
    $ofCeiling = { param($rate) if ($rate -and $ceiling) { [math]::Round($rate / $ceiling, 2) } }

    [pscustomobject]@{
        'spawn /bin/true (.NET, redirected) /s'    = [math]::Round($spawnRate)
        "bulk submit jobs/s ($Jobs)"                = [math]::Round($bulk.Submit)
        "end-to-end jobs/s ($Jobs)"                 = [math]::Round($bulk.EndToEnd)
        'end-to-end / spawn rate'                  = [math]::Round($bulk.EndToEnd / $spawnRate, 2)
        "task-spooler end-to-end jobs/s ($Jobs, TS_SLOTS=2)" = if ($peer) { [math]::Round($peer.EndToEnd) } else { "skipped: $script:TspMissing" }
        "task-spooler, the same loop as a plain bash script (bench/Bench.ps1's Get-PeerLoop) jobs/s" = if ($peer) { [math]::Round($peer.PlainLoop) }
        "end-to-end Goq / task-spooler ($Jobs)"     = if ($peer) { [math]::Round($bulk.EndToEnd / $peer.EndToEnd, 2) }
        "submit-to-start p50 / p99 ms ($Single single, until the job's program runs)" = '{0:N2} / {1:N2}' -f (Get-Percentile $latencies 50), (Get-Percentile $latencies 99)
        "spawn floor p50 / p99 ms (this pwsh starts the same program itself)" = '{0:N2} / {1:N2}' -f (Get-Percentile $floor 50), (Get-Percentile $floor 99)
        "task-spooler submit-to-start p50 / p99 ms, same" = if ($peer) { '{0:N2} / {1:N2}' -f (Get-Percentile $peer.Latencies 50), (Get-Percentile $peer.Latencies 99) }
        "tab completion of -Id p50 / p99 ms ($Completions each): server up (answers empty); server down" = if ($completion) {
            '{0:N1} / {1:N1} ({2}); {3:N1} / {4:N1}' -f (Get-Percentile $completion.Up 50), (Get-Percentile $completion.Up 99), $completion.UpEmpty,
                (Get-Percentile $completion.Down 50), (Get-Percentile $completion.Down 99)
        }
        "bulk submit jobs/s ($DurableJobs, the CPU run)" = if ($durable) { [math]::Round($durable.Submit) }
        "end-to-end jobs/s ($DurableJobs, the CPU run)" = if ($durable) { [math]::Round($durable.EndToEnd) }
        "CPU ms/job: client (this pwsh)"           = $cpu2[0]
        "CPU ms/job: server"                       = $cpu2[1]
        "CPU ms/job: worker"                       = $cpu2[2]
        "CPU ms/job: the jobs themselves"          = $cpu2[3]
        "end-to-end jobs/s ($DurableJobs, $ManySlots slots)" = if ($many) { [math]::Round($many.EndToEnd) }
        "CPU ms/job, $ManySlots slots: client / server / worker / jobs" = if ($many) { $manyCpu }
        "end-to-end jobs/s ($DurableJobs, $ManySlots slots, job keeper)" = if ($kept) { "$([math]::Round($kept.EndToEnd)) ($([math]::Round($kept.EndToEnd / $many.EndToEnd, 2)) of without)" }
        "CPU ms/job, job keeper: client / server / worker / jobs" = if ($kept) { $keptCpu }
        "ceiling: xargs -P $([Environment]::ProcessorCount) /bin/true /s" = if ($ceiling) { [math]::Round($ceiling) }
        "end-to-end / ceiling (2 slots, $ManySlots slots)" = if ($ceiling) { "$(& $ofCeiling $durable.EndToEnd), $(& $ofCeiling $many.EndToEnd)" }
        "Receive-GoqJob MB/s, $OutputMB MB ended: from the file / via the server" = if ($receive) { $receive -join ' / ' }
        "first Get-Job of a new session, one job of $GetJobMB MB among them: s; HasMoreData of all s; heap MB (jobs)" = if ($firstGetJob) { '{0:N2}; {1:N2}; {2:N1} ({3})' -f $firstGetJob.GetJobSec, $firstGetJob.HasMoreSec, $firstGetJob.HeapMB, $firstGetJob.Jobs }
        "worker peak MB above idle, one job writing $FloodMB MB" = if ($flood) { "$($flood.AboveIdleMB) (idle $($flood.IdleMB) MB; job wrote at $($flood.MBps) MB/s)" }
        "one job writing $StreamMB MB of short lines (seq): MB/s end to end" = if ($stream) { '{0:N1} ({1} MiB)' -f $stream.MBps, $stream.MB }
        "same: job run s / alone in bash s / alone / job (goal >= 0.5)" = if ($stream) { '{0:N2} / {1:N2} / {2:N2}' -f $stream.JobSec, $stream.AloneSec, $stream.Ratio }
        "same: CPU s of server / relay / keeper / the job" = if ($stream) { $stream.Cpu }
        "script-block jobs/s ($ScriptJobs, 2 slots, submit to last object received)" = if ($scripts) { [math]::Round($scripts.Goq) }
        'ForEach-Object -Parallel -ThrottleLimit 2, same block /s' = if ($scripts) { [math]::Round($scripts.Parallel) }
        'script-block jobs / ForEach-Object -Parallel' = if ($scripts) { [math]::Round($scripts.Goq / $scripts.Parallel, 2) }
        'script-block CPU ms/job: client / server / relay / keeper / runners' = if ($scripts) { $scripts.Cpu }
        "stopping a running script-block job ($ScriptStops): ms until Cancelled, p50 / slowest; until its child is gone, same" = if ($stops) {
            '{0:N0} / {1:N0}; {2:N0} / {3:N0}' -f (Get-Percentile $stops.Ms 50), ($stops.Ms | Measure-Object -Maximum).Maximum,
                (Get-Percentile $stops.GoneMs 50), ($stops.GoneMs | Measure-Object -Maximum).Maximum
        }
        "dependency chain of $ChainJobs, head fails: ms until all ended (chain built in s)" = if ($chain) { '{0:N0} ({1:N1})' -f $chain.HeardMs, $chain.BuildSec }
        "array of $ArrayTasks tasks: submit ms; server RSS MB before, after" = if ($array) { '{0:N0}; {1:N0}, {2:N0} (+{3:N1})' -f $array.SubmitMs, $array.BeforeMB, $array.AfterMB, ($array.AfterMB - $array.BeforeMB) }
        "array of $ArrayTasks tasks: Get-GoqJob lists all s, Stop-GoqJob cancels all s" = if ($array) { '{0:N1}, {1:N1}' -f $array.ListSec, $array.CancelSec }
        "output-heavy: $HeavyJobs jobs of $HeavyMB MB lines, MB/s through the server to disk" = if ($heavy) { [math]::Round($heavy, 1) }
        "$SimWorkers simulated workers ($SimProcesses processes): all counted by the server in s" = if ($sims) { '{0:N1}' -f $sims.ConnectSec }
        "$SimWorkers simulated workers, idle (heartbeats every $($sims.HeartbeatSec) s): server CPU %, RSS MB (before they came)" = if ($sims) { '{0:N1}, {1:N0} ({2:N0})' -f $sims.IdleCpuPct, $sims.RssIdle, $sims.RssBefore }
        "$SimWorkers simulated workers: dispatch jobs/s ($SimJobs released at once; ran on N workers); server CPU ms/job" = if ($sims) { '{0:N0} (on {1}); {2:N3}' -f $sims.Rate, $sims.RanOn, $sims.CpuPerJobMs }
        "$SimWorkers simulated workers: one hangs holding a job, declared dead after s (dead-worker time)" = if ($sims) { '{0:N1} ({1} s; its job back {2})' -f $sims.DeadSec, $sims.DeadAfterSec, $sims.JobBack }
        "history of $HistoryJobs ended jobs: Get-GoqJob first object ms, all s" = if ($history) { '{0:N0}, {1:N1} ({2:N0} jobs; history built in {3:N0} s)' -f $history.FirstMs, $history.AllSec, $history.All, $history.BuildSec }
        "history of $($HistoryJobs): Get-GoqJob -State Running ms; server RSS MB" = if ($history) { '{0:N0}; {1:N0}' -f $history.RunningMs, $history.MemoryMB }
        "history of $($HistoryJobs): submit-to-start p50 ms while another client lists it all" = if ($history) { '{0:N2}' -f $history.DuringP50 }
        "end-to-end jobs/s ($ScrapeJobs x3): none / metrics scraped every 100 ms" = if ($scrape) { '{0} / {1}' -f (($scrape.None | ForEach-Object { [math]::Round($_) }) -join ', '), (($scrape.Scraped | ForEach-Object { [math]::Round($_) }) -join ', ') }
        'scraped / none (medians); slowest / fastest unscraped round (the noise)' = if ($scrape) { '{0:N3}; {1:N3}' -f $scrape.Ratio, $scrape.NoiseRatio }
        'server CPU ms/job in those rounds: none / scraped' = if ($scrape) { '{0} / {1}' -f (($scrape.NoneCpu | ForEach-Object { '{0:N3}' -f $_ }) -join ', '), (($scrape.ScrapedCpu | ForEach-Object { '{0:N3}' -f $_ }) -join ', ') }
        'scheduler (loop thread) CPU ms/job in those rounds: none / scraped' = if ($scrape -and $IsLinux) { '{0} / {1}' -f (($scrape.NoneLoop | ForEach-Object { '{0:N3}' -f $_ }) -join ', '), (($scrape.ScrapedLoop | ForEach-Object { '{0:N3}' -f $_ }) -join ', ') }
        'one scrape: ms back to back; server CPU ms; bytes (OpenMetrics)' = if ($scrape) { '{0:N2}; {1:N3}; {2:N0}' -f $scrape.ScrapeMs, $scrape.ServerCpuMsPerScrape, $scrape.Bytes }
        'the scraper process itself, % of a core (on the same 2 cores as the jobs)' = if ($scrape -and $IsLinux) { ($scrape.ScraperCpuPct | ForEach-Object { '{0:N1}' -f $_ }) -join ', ' }
        "dashboard over $($HistoryJobs) jobs: first load kB (page, scripts, styles, data)" = if ($dashboard) { '{0:N1}' -f ($dashboard.PageBytes / 1KB) }
        "dashboard over $($HistoryJobs) jobs: API answers" = if ($dashboard) { ($dashboard.Api.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join '; ' }
        "dashboard over $($HistoryJobs) jobs: headless Chromium until shown ms (a blank page, same Chromium)" = if ($dashboard.Load) { '{0:N0} ({1:N0})' -f $dashboard.Load.Page, $dashboard.Load.Blank } elseif ($dashboard) { 'skipped: chromium is not installed' }
        "waiting queue of $($WaitingJobs): submit jobs/s, first 10,000 / the rest" = if ($queue) { '{0:N0} / {1:N0}' -f $queue.Rate10k, $queue.RateAll }
        "waiting queue of $($WaitingJobs): server RSS MB queued (idle before)" = if ($queue) { '{0:N0} ({1:N0})' -f $queue.QueuedMB, $queue.BeforeMB }
        "waiting queue of $($WaitingJobs): restart s until all back; until a job ran (worker re-announces within $($queue.HeartbeatSec) s); RSS MB" = if ($queue) { '{0:N1}; {1:N1}; {2:N0}' -f $queue.BackSec, $queue.DispatchSec, $queue.RestartedMB }
        "one-secret home vs multi-user home ($MultiUserJobs x3, A B A B): submit jobs/s" = if ($users -is [string]) { $users } elseif ($users) {
            '{0} vs {1} (multi / one, medians: {2:N3})' -f (($users.OneSubmit | ForEach-Object { [math]::Round($_) }) -join ', '), (($users.MultiSubmit | ForEach-Object { [math]::Round($_) }) -join ', '), $users.SubmitRatio }
        "same: end-to-end jobs/s (multi-user: each job run as its owner through setpriv)" = if ($users -and $users -isnot [string]) {
            '{0} vs {1} (multi / one, medians: {2:N3})' -f (($users.OneEnd | ForEach-Object { [math]::Round($_) }) -join ', '), (($users.MultiEnd | ForEach-Object { [math]::Round($_) }) -join ', '), $users.EndRatio }
        "SQLite vs PostgreSQL store ($StoreJobs x3, A B A B): submit jobs/s" = if ($stores -is [string]) { $stores } elseif ($stores) {
            '{0} vs {1} (PostgreSQL / SQLite, medians: {2:N3})' -f (($stores.SqliteSubmit | ForEach-Object { [math]::Round($_) }) -join ', '), (($stores.PgSubmit | ForEach-Object { [math]::Round($_) }) -join ', '), $stores.SubmitRatio }
        "same: end-to-end jobs/s (goal: PostgreSQL >= 0.8 of SQLite)" = if ($stores -and $stores -isnot [string]) {
            '{0} vs {1} (PostgreSQL / SQLite, medians: {2:N3})' -f (($stores.SqliteEnd | ForEach-Object { [math]::Round($_) }) -join ', '), (($stores.PgEnd | ForEach-Object { [math]::Round($_) }) -join ', '), $stores.EndRatio }
        "waiting queue of $($WaitingJobs) on PostgreSQL: submit jobs/s, first 10,000 / the rest; restart s until all back; RSS MB" = if ($queuePg -is [string]) { $queuePg } elseif ($queuePg) {
            '{0:N0} / {1:N0}; {2:N1}; {3:N0}' -f $queuePg.Rate10k, $queuePg.RateAll, $queuePg.BackSec, $queuePg.RestartedMB }
        "take-over after kill -9 of the active server ($FailoverRounds rounds): s until a submit is answered; until a new job starts (goal < 15)" = if ($failover -is [string]) { $failover } elseif ($failover) {
            '{0}; {1}' -f (($failover.ServeSec | ForEach-Object { '{0:N1}' -f $_ }) -join ', '), (($failover.FirstJobSec | ForEach-Object { '{0:N1}' -f $_ }) -join ', ') }
        "same: lease s / renewed every s / held for s; the stream's jobs: submitted, submit errors, not completed, run twice" = if ($failover -and $failover -isnot [string]) {
            '{0} / {1:N1} / {2:N1}; {3}, {4}{7}, {5}, {6}' -f $failover.LeaseSec, $failover.RenewSec, $failover.HoldSec, $failover.Streamed, $failover.StreamErrors, $failover.NotCompleted, $failover.RanTwice, $(if ($failover.StreamErrorKinds) { " ($($failover.StreamErrorKinds))" }) }
        'cores'                                    = [Environment]::ProcessorCount
        'worker slots'                             = "2 (runs 2-4, 9), $ManySlots (runs 5, 5b); -NoJobKeeper but in 5b, 7, 8, 9"
        'store'                                    = 'SQLite, WAL, synchronous=FULL: every job committed before its ack'
    } | Format-List | Out-String
}
finally {
    Pop-Location -ErrorAction SilentlyContinue
    try { Stop-GoqWorker -Home $goqHome -Idle } catch { Write-Warning "stopping workers: $_" }
    try { Stop-GoqServer -Confirm:$false -Home $goqHome } catch { Write-Warning "stopping the server: $_" }
    $null = Stop-GoqHomeProcess $goqHome
    Remove-Item -Recurse -Force $goqHome -ErrorAction SilentlyContinue
}
