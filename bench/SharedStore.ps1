# The PostgreSQL store and fail-over between servers (issue 29), for Bench.ps1 (dot-source it after tools/Helpers.ps1):
# each measurement makes its own throw-away PostgreSQL (tools/TestPostgres.ps1) and homes, and removes them.
. (Join-Path $PSScriptRoot '../tools/TestPostgres.ps1')

function New-BenchHome([string] $Tag) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("goq-bench$Tag-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $dir | Out-Null
    $dir
}

function Remove-BenchHome([string] $Dir) {
    try { Stop-GoqServer -Home $Dir -IncludeWorkers -Confirm:$false | Out-Null } catch { }
    $null = Stop-GoqHomeProcess $Dir
    Remove-Item -Recurse -Force $Dir -ErrorAction SilentlyContinue
}

# The same bulk run (Measure-Bulk: -Count trivial jobs, submit rate and end to end) on a SQLite home and on a home whose
# store is PostgreSQL on this host, A B A B for -Rounds: one server and one worker of 2 slots each, the other idle.
function Measure-PostgresStore([int] $Count, [int] $Rounds = 3) {
    $pg = Start-GoqTestPostgres
    if ($pg -is [string]) { return "skipped: $pg" }
    $sqlite = New-BenchHome 'sq'
    $postgres = New-BenchHome 'pg'
    try {
        Initialize-GoqHome -Path $sqlite -Port (Get-FreePort) | Out-Null
        Initialize-GoqHome -Path $postgres -Port (Get-FreePort) -StoreConnectionString "$($pg.ConnectionString);Password=$($pg.Password)" | Out-Null
        foreach ($h in $sqlite, $postgres) {
            $null = Start-GoqServer -Home $h
            $null = Start-GoqWorker -Home $h -Slots 2 -NoJobKeeper
            Push-Location $h; try { $null = Measure-Bulk $h 200 } finally { Pop-Location } # warm-up
        }
        $results = foreach ($round in 1..$Rounds) {
            $a = Push-Location $sqlite -PassThru; try { $s = Measure-Bulk $sqlite $Count } finally { Pop-Location }
            $b = Push-Location $postgres -PassThru; try { $p = Measure-Bulk $postgres $Count } finally { Pop-Location }
            [pscustomobject]@{ SQLite = $s; PostgreSQL = $p }
        }
        [pscustomobject]@{
            SqliteSubmit = $results.SQLite.Submit; PgSubmit = $results.PostgreSQL.Submit
            SqliteEnd = $results.SQLite.EndToEnd; PgEnd = $results.PostgreSQL.EndToEnd
            SubmitRatio = (Get-Median $results.PostgreSQL.Submit) / (Get-Median $results.SQLite.Submit)
            EndRatio = (Get-Median $results.PostgreSQL.EndToEnd) / (Get-Median $results.SQLite.EndToEnd)
        }
    }
    finally {
        Remove-BenchHome $sqlite
        Remove-BenchHome $postgres
        Stop-GoqTestPostgres $pg
    }
}

# Measure-WaitingQueue (Scale.ps1: a queue of -Count waiting jobs, submitted, then the server restarted) on a
# PostgreSQL store: the million-job figures of the SQLite store, on the other.
function Measure-PostgresWaitingQueue([int] $Count) {
    $pg = Start-GoqTestPostgres
    if ($pg -is [string]) { return "skipped: $pg" }
    try { Measure-WaitingQueue $Count "$($pg.ConnectionString);Password=$($pg.Password)" }
    finally { Stop-GoqTestPostgres $pg }
}

# Two servers on one PostgreSQL store (the home's default lease unless -LeaseSec), a worker of 2 slots, and a stream of
# submits (batches of 20 trivial jobs five times a second, from a thread of its own: a short queue, jobs running). -Rounds times: kill -9 the active
# server, then time (from the kill) until a submit is answered again (the standby serves) and until a job submitted
# right after the kill starts; then start the killed one again (it stands by). At the end every job of the stream must
# have completed, none twice.
function Measure-Failover([int] $Rounds = 3, [int] $LeaseSec = 0) {
    $pg = Start-GoqTestPostgres
    if ($pg -is [string]) { return "skipped: $pg" }
    $h = New-BenchHome 'ha'
    $stream = $null
    try {
        $ports = @(Get-FreePort; Get-FreePort)
        $init = @{ Path = $h; Servers = @($ports | ForEach-Object { "127.0.0.1:$_" }); StoreConnectionString = "$($pg.ConnectionString);Password=$($pg.Password)" }
        if ($LeaseSec -gt 0) { $init.LeaseSec = $LeaseSec }
        Initialize-GoqHome @init | Out-Null
        $lease = (Get-Content -Raw (Join-Path $h '.goq/config.json') | ConvertFrom-Json).LeaseSec
        if (-not $lease) { $lease = 10 }
        $pids = @{}
        foreach ($p in $ports) { $pids[$p] = (Start-GoqServer -Home $h -Port $p).Pid }
        $null = Start-GoqWorker -Home $h -Slots 2 -NoJobKeeper
        $stopFile = Join-Path $h 'stop-stream'
        $stream = Start-ThreadJob -ArgumentList $h, $stopFile, (Join-Path $PSScriptRoot '../module/Goq.psd1') -ScriptBlock {
            param($GoqHome, $StopFile, $Module)
            Import-Module $Module
            $ids = [System.Collections.Generic.List[long]]::new()
            $errors = [System.Collections.Generic.List[string]]::new()
            while (-not (Test-Path $StopFile)) {
                try { foreach ($j in (1..20 | ForEach-Object { '/bin/true' } | Submit-GoqJob -Home $GoqHome -ArgumentList @())) { $ids.Add($j.Id) } }
                catch { $errors.Add("$($_.FullyQualifiedErrorId): $($_.Exception.Message)") }
                Start-Sleep -Milliseconds 200 # about 100 jobs/s, below what the worker runs: the queue stays short, as a busy day's does

            }
            [pscustomobject]@{ Ids = $ids; Errors = $errors }
        }
        $serve = [System.Collections.Generic.List[double]]::new()
        $firstJob = [System.Collections.Generic.List[double]]::new()
        foreach ($round in 1..$Rounds) {
            # Let the stream run a moment under the current server (a few batches answered).
            $before = (Get-GoqServer -Home $h).NextJobId
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ((Get-GoqServer -Home $h).NextJobId -lt $before + 60) { if ([DateTime]::UtcNow -gt $deadline) { throw 'the stream of submits does not progress' }; Start-Sleep -Milliseconds 50 }
            $active = Get-GoqServer -Home $h
            $port = [int]($active.Endpoint -replace '^.*:', '')
            if (-not $pids.ContainsKey($port)) { $port = $ports | Where-Object { $pids[$_] -eq $active.ServerPid } }
            $killedAt = [DateTimeOffset]::UtcNow
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            & kill -9 $active.ServerPid
            $marker = '/bin/true' | Submit-GoqJob -Home $h -ArgumentList @()
            $serve.Add($watch.Elapsed.TotalSeconds)
            $ran = $marker | Wait-GoqJob -Home $h -Timeout 120
            if ($ran.State -ne 'Completed') { throw "the job submitted after the kill ended $($ran.State)" }
            $firstJob.Add(($ran.StartedAt - $killedAt).TotalSeconds)
            $pids[$port] = (Start-GoqServer -Home $h -Port $port).Pid # it comes back as the standby
        }
        New-Item -ItemType File $stopFile | Out-Null
        $streamed = $stream | Wait-Job -Timeout 300 | Receive-Job
        $ended = $streamed.Ids | Wait-GoqJob -Home $h -Timeout 600
        $jobs = @(Get-GoqJob -Home $h)
        [pscustomobject]@{
            LeaseSec = $lease; RenewSec = $lease / 5; HoldSec = $lease * 0.8
            ServeSec = $serve; FirstJobSec = $firstJob
            Streamed = $streamed.Ids.Count; StreamErrors = $streamed.Errors.Count
            StreamErrorKinds = ($streamed.Errors | ForEach-Object { ($_ -split ',')[0] } | Group-Object | ForEach-Object { "$($_.Count) x $($_.Name)" }) -join '; '
            FirstStreamError = $streamed.Errors | Select-Object -First 1
            NotCompleted = @($ended | Where-Object State -NE 'Completed').Count
            RanTwice = @($jobs | Where-Object { $_.Attempts -gt 1 }).Count
        }
    }
    finally {
        if ($stream) { New-Item -ItemType File (Join-Path $h 'stop-stream') -ErrorAction SilentlyContinue | Out-Null; $stream | Stop-Job -PassThru | Remove-Job -Force }
        Remove-BenchHome $h
        Stop-GoqTestPostgres $pg
    }
}
