# Several servers on one PostgreSQL store (tools/TestPostgres.ps1's throw-away instance): one holds the store's lease
# and serves, the others stand by. A pipeline of thousands of jobs goes on while the active server is killed -9 twice,
# and every job runs exactly once; a server paused past its lease commits nothing after the take-over and stands by
# when it wakes, and clients of the whole list reach the server that took over while it is paused; a store that refuses
# the login, or cannot be reached, is said at start. Real processes throughout, no fixed waits: every wait is a polled
# condition with a deadline. Skipped with the reason where PostgreSQL cannot be had (the last test needs none).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $RepoRoot 'tools/TestPostgres.ps1')
    $script:Pg = Start-GoqTestPostgres
    $script:Manifest = Join-Path $RepoRoot 'module/Goq.psd1'

    # A home of two servers (two ports, one home) on a database of its own in the instance: each test has its own
    # lease, epochs and queue. The home is recorded for AfterEach before anything is started in it.
    function New-FailOverHome([int] $LeaseSec = 3) {
        $database = 'fo_' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        $created = Invoke-GoqTestPostgresSql $Pg "CREATE DATABASE $database"
        if ($LASTEXITCODE -ne 0) { throw "CREATE DATABASE $database failed: $created" }
        $path = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-failover-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        $script:Homes.Add($path)
        $ports = @(Get-FreePort; Get-FreePort)
        while ($ports[1] -eq $ports[0]) { $ports[1] = Get-FreePort }
        $connection = ($Pg.ConnectionString -replace 'Database=postgres', "Database=$database") + ";Password=$($Pg.Password)"
        Initialize-GoqHome -Path $path -Servers "127.0.0.1:$($ports[0])", "127.0.0.1:$($ports[1])" -StoreConnectionString $connection -LeaseSec $LeaseSec | Out-Null
        [pscustomobject]@{ Home = $path; Ports = $ports; Database = $database }
    }

    # SQL on a test's own database (psql -A -t: one line per row, columns split by '|').
    function Invoke-Sql($FailOver, [string] $Sql) {
        $out = Invoke-GoqTestPostgresSql $Pg $Sql -Database $FailOver.Database
        if ($LASTEXITCODE -ne 0) { throw "psql failed on '$Sql': $out" }
        $out
    }

    # The status of the server that serves, or $null while none answers (a take-over under way).
    function Get-ActiveStatus($FailOver) {
        try { Get-GoqServer -Home $FailOver.Home -ErrorAction Stop | Select-Object -First 1 } catch { $null }
    }

    # Runs, stopped (SIGSTOP) included; not a zombie nor gone.
    function Test-Running([int] $Id) {
        $stat = Get-Content "/proc/$Id/stat" -ErrorAction SilentlyContinue
        $stat -and ($stat -replace '^\d+ \(.*\) (\S) .*$', '$1') -notin 'Z', 'X'
    }

    # A server's pid file: pid, endpoint, start ticks, role (Active or Standby).
    function Get-PidFile($FailOver, [int] $Port) {
        Get-Content (Join-Path $FailOver.Home ".goq/server.$Port.pid") -ErrorAction SilentlyContinue
    }

    # Kills the active server -9 and waits until it has ended. Returns its status as last seen (pid, endpoint, epoch).
    function Stop-ActiveServer($FailOver) {
        $box = @{}
        Wait-Until { ($box.Status = Get-ActiveStatus $FailOver) } -TimeoutSec 60 -Because 'a server to serve before the kill'
        $before = $box.Status
        $port = [int]($before.Endpoint -replace '^.*:')
        $before.ServerPid | Should -Be ([int](Get-PidFile $FailOver $port)[0]) -Because 'the active server is the one its pid file names'
        Stop-Process -Id $before.ServerPid -Force # SIGKILL: no lease given up, no goodbye
        Wait-Until { -not (Test-Running $before.ServerPid) } -TimeoutSec 30 -Because "the killed server ($($before.ServerPid)) to end"
        $before
    }

    # Waits until the other server serves under a later epoch than the killed one, then starts the killed one again and
    # checks that it stands by. Returns the new active server's status.
    function Wait-TakeOver($FailOver, $Killed) {
        $box = @{}
        Wait-Until {
            ($box.Status = Get-ActiveStatus $FailOver) -and $box.Status.Epoch -gt $Killed.Epoch
        } -TimeoutSec 120 -Because "the other server to take over from epoch $($Killed.Epoch)"
        $after = $box.Status
        $after.Endpoint | Should -Not -Be $Killed.Endpoint -Because 'the standby took over'
        $after.Role | Should -Be 'Active'
        $restarted = Start-GoqServer -Home $FailOver.Home -Port ([int]($Killed.Endpoint -replace '^.*:'))
        $restarted.Role | Should -Be 'Standby' -Because 'the lease is the other server''s'
        $restarted.Pid | Should -Not -Be $Killed.ServerPid
        $after
    }

    $script:Homes = [System.Collections.Generic.List[string]]::new()
}
AfterAll { Stop-GoqTestPostgres $Pg }

Describe 'Fail-over between servers on one PostgreSQL store' {
    BeforeEach {
        if ($Pg -is [string]) { Set-ItResult -Skipped -Because $Pg }
        $script:Homes.Clear()
        $script:Submitter = $null
    }
    AfterEach {
        $env:GOQ_SERVERS = $null
        if ($script:Submitter) { $script:Submitter | Remove-Job -Force -ErrorAction SilentlyContinue }
        foreach ($path in $script:Homes) {
            # A paused server dies with SIGKILL as it is; the workers' keepers and sentinels name the home too.
            $null = Stop-GoqHomeProcess $path -GraceSec 0
            Remove-Item -Recurse -Force $path -ErrorAction SilentlyContinue
        }
    }

    It 'tells the active server, its epoch and store, and lists every server with its role' {
        $fo = New-FailOverHome
        $first = Start-GoqServer -Home $fo.Home -Port $fo.Ports[0]
        $first.Role | Should -Be 'Active' -Because 'the first server takes the free lease'
        $second = Start-GoqServer -Home $fo.Home -Port $fo.Ports[1]
        $second.Role | Should -Be 'Standby'
        (Get-PidFile $fo $fo.Ports[1])[3] | Should -Be 'Standby'
        (Get-PidFile $fo $fo.Ports[0])[3] | Should -Be 'Active'

        $status = Get-GoqServer -Home $fo.Home
        $status.Role | Should -Be 'Active'
        $status.Store | Should -Be 'PostgreSQL'
        $status.Epoch | Should -BeGreaterOrEqual 1
        $status.ActiveSince | Should -Not -BeNullOrEmpty
        $status.ServerPid | Should -Be $first.Pid
        $status.Endpoint | Should -Be "tcp://127.0.0.1:$($fo.Ports[0])"
        Invoke-Sql $fo 'SELECT epoch FROM goq.lease' | Should -Be "$($status.Epoch)"

        # The standby announces itself every couple of seconds: it is listed as Standby once it has.
        Wait-Until {
            $all = @(try { Get-GoqServer -Home $fo.Home -All -ErrorAction Stop } catch { })
            $all.Count -eq 2 -and ($all | Where-Object Endpoint -EQ "tcp://127.0.0.1:$($fo.Ports[1])").Role -eq 'Standby'
        } -TimeoutSec 30 -Because 'Get-GoqServer -All to list the standby as Standby'
        $all = @(Get-GoqServer -Home $fo.Home -All)
        $all[0].Role | Should -Be 'Active' -Because 'the active server comes first'
        $all[0].Endpoint | Should -Be "tcp://127.0.0.1:$($fo.Ports[0])"
        $all[1].ActiveServer | Should -Be "tcp://127.0.0.1:$($fo.Ports[0])"
    }

    It 'runs a 5,000-job pipeline to its end, each job exactly once, while the active server is killed -9 twice' {
        $fo = New-FailOverHome
        $null = Start-GoqServer -Home $fo.Home -Port $fo.Ports[0]
        $null = Start-GoqServer -Home $fo.Home -Port $fo.Ports[1]
        $null = Start-GoqWorker -Home $fo.Home -Slots 2
        $null = Start-GoqWorker -Home $fo.Home -Slots 2 -Force # two workers on purpose
        $ran = Join-Path $fo.Home 'ran.txt'
        $signals = Join-Path $fo.Home 'signals'
        New-Item -ItemType Directory $signals | Out-Null

        # ONE pipeline of 5,000 jobs, each appending its own token (one short line with >>: O_APPEND, whole). It stops
        # twice on its way, at job 1,501 and 3,501, until the active server has been killed: the rest goes on into the
        # take-over, with the jobs already submitted running on the workers.
        $script:Submitter = Start-ThreadJob -ArgumentList $Manifest, $fo.Home, $ran, $signals -ScriptBlock {
            param($Manifest, $GoqHome, $Ran, $Signals)
            $ErrorActionPreference = 'Stop'
            Import-Module $Manifest
            function Wait-Signal([string] $Name) {
                $null = New-Item -ItemType File (Join-Path $Signals "at-$Name")
                $deadline = [DateTime]::UtcNow.AddSeconds(300)
                while (-not (Test-Path (Join-Path $Signals "go-$Name"))) {
                    if ([DateTime]::UtcNow -gt $deadline) { throw "no go-$Name signal within 300 s" }
                    Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
                }
            }
            $errors = @()
            $submitted = @()
            try {
                $submitted = 1..5000 | ForEach-Object {
                    if ($_ -eq 1501) { Wait-Signal 1 }
                    if ($_ -eq 3501) { Wait-Signal 2 }
                    "echo tok-$_ >> '$Ran'"
                } | Submit-GoqJob -Home $GoqHome -ErrorVariable +errors -ErrorAction Continue
            }
            catch { $errors += $_ }
            [pscustomobject]@{
                Ids    = @($submitted | ForEach-Object Id)
                Errors = @($errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
            }
        }

        $epochs = @()
        foreach ($n in 1, 2) {
            Wait-Until { (Test-Path (Join-Path $signals "at-$n")) -or $script:Submitter.State -notin 'NotStarted', 'Running' } -TimeoutSec 300 -Because "the pipeline to reach kill $n"
            $script:Submitter.State | Should -Be 'Running' -Because "the pipeline waits for kill $n ($($script:Submitter | Receive-Job -Keep -ErrorAction Continue 2>&1 | Out-String))"
            $killed = Stop-ActiveServer $fo
            $null = New-Item -ItemType File (Join-Path $signals "go-$n") # the submits go on into the take-over
            $active = Wait-TakeOver $fo $killed
            $epochs += $killed.Epoch, $active.Epoch
        }
        Wait-Until { $script:Submitter.State -notin 'NotStarted', 'Running' } -TimeoutSec 300 -Because 'the pipeline to end'
        $script:Submitter.State | Should -Be 'Completed'
        $result = $script:Submitter | Receive-Job -ErrorAction Continue 2>&1 | Select-Object -Last 1
        $result.Errors | Should -BeNullOrEmpty -Because 'the pipeline met the take-overs without an error'
        $result.Ids | Should -HaveCount 5000 -Because 'every record was acknowledged, once'
        @($result.Ids | Sort-Object -Unique) | Should -HaveCount 5000
        $epochs[1] | Should -BeGreaterThan $epochs[0]
        $epochs[3] | Should -BeGreaterThan $epochs[2]
        $epochs[2] | Should -Be $epochs[1] -Because 'the second kill took the server that had taken over'
        # The first server, started again as a standby, serves once more: the roles went round.
        (Get-GoqServer -Home $fo.Home).Endpoint | Should -Be "tcp://127.0.0.1:$($fo.Ports[0])"

        Wait-Until {
            $counts = (Get-ActiveStatus $fo).Jobs
            $counts -and $counts.Total -eq 5000 -and $counts.Waiting + $counts.Running + $counts.Blocked + $counts.Held -eq 0
        } -TimeoutSec 300 -Because 'every job to end'
        $jobs = @(Get-GoqJob -Home $fo.Home)
        $jobs | Should -HaveCount 5000 -Because 'the store holds each acknowledged job once, and no other'
        ($jobs | Group-Object State | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ' | Should -Be 'Completed 5000'
        @($jobs | Where-Object Attempts -NE 1 | ForEach-Object { "$($_.Id) attempts $($_.Attempts)" }) | Should -BeNullOrEmpty -Because 'a server''s kill costs no job an attempt'
        Compare-Object ($jobs.Id | Sort-Object) ($result.Ids | Sort-Object) | Should -BeNullOrEmpty -Because 'the jobs are the ones acknowledged'

        $tokens = Get-Content $ran
        $twice = $tokens | Group-Object | Where-Object Count -GT 1 | ForEach-Object { "$($_.Name) x$($_.Count)" }
        $twice | Should -BeNullOrEmpty -Because 'no job ran twice'
        $tokens | Should -HaveCount 5000 -Because 'each job ran once'
        Compare-Object ($tokens | Sort-Object) (1..5000 | ForEach-Object { "tok-$_" } | Sort-Object) | Should -BeNullOrEmpty -Because 'every token is there'
        (Invoke-Sql $fo 'SELECT epoch FROM goq.lease') | Should -Be "$($epochs[3])"
        (Invoke-Sql $fo 'SELECT count(*) FROM goq.epochs') | Should -Be "$($epochs[3])" -Because 'each take-over recorded its epoch'
    }

    It 'keeps a paused active server from committing after the take-over, and it stands by when it wakes' {
        $fo = New-FailOverHome
        $old = Start-GoqServer -Home $fo.Home -Port $fo.Ports[0]
        $old.Role | Should -Be 'Active'
        $null = Start-GoqServer -Home $fo.Home -Port $fo.Ports[1]
        # Stored under the first epoch, run under the next: no worker yet.
        $first = 1..3 | ForEach-Object { "echo first $_" } | Submit-GoqJob -Home $fo.Home
        $oldEpoch = (Get-GoqServer -Home $fo.Home).Epoch
        $oldEpoch | Should -BeGreaterOrEqual 1
        [int](Invoke-Sql $fo "SELECT commits FROM goq.epochs WHERE epoch = $oldEpoch") | Should -BeGreaterThan 0 -Because 'the active server committed the jobs'

        & kill -STOP $old.Pid
        try {
            Wait-Until { [long](Invoke-Sql $fo 'SELECT epoch FROM goq.lease') -gt $oldEpoch } -TimeoutSec 60 -Because 'the standby to take the lease'
            $newEpoch = [long](Invoke-Sql $fo 'SELECT epoch FROM goq.lease')
            $committed = Invoke-Sql $fo "SELECT commits, last_commit_at FROM goq.epochs WHERE epoch = $oldEpoch"
            # The client and the worker here name the serving server alone: whether those of the whole list reach it
            # while the old one is paused is the next test's; here what the paused server commits is in question.
            $env:GOQ_SERVERS = "127.0.0.1:$($fo.Ports[1])"
            try {
                $box = @{}
                Wait-Until { ($box.Status = Get-ActiveStatus $fo) -and $box.Status.Epoch -eq $newEpoch } -TimeoutSec 60 -Because 'the standby to serve'
                $box.Status.Endpoint | Should -Be "tcp://127.0.0.1:$($fo.Ports[1])"
                $null = Start-GoqWorker -Home $fo.Home -Slots 2
                $second = 1..3 | ForEach-Object { "echo second $_" } | Submit-GoqJob -Home $fo.Home
                $ended = @($first + $second | Wait-GoqJob -Home $fo.Home -Timeout 60)
                @($ended | Where-Object State -EQ 'Completed') | Should -HaveCount 6 -Because 'the new server runs the jobs it loaded and those it took'
            }
            finally { $env:GOQ_SERVERS = $null }
        }
        finally { & kill -CONT $old.Pid }

        Wait-Until { (Get-PidFile $fo $fo.Ports[0])[3] -eq 'Standby' } -TimeoutSec 60 -Because 'the woken server to stand by'
        (Get-PidFile $fo $fo.Ports[0])[0] | Should -Be "$($old.Pid)" -Because 'it is the same process, still there'
        Test-Running $old.Pid | Should -BeTrue
        $events = @(Get-Content (Join-Path $fo.Home ".goq/server.$($fo.Ports[0]).log") | ForEach-Object { ($_ | ConvertFrom-Json).event })
        $events | Should -Contain 'server.stepped_down'
        $events | Should -Contain 'server.standing_by'

        Invoke-Sql $fo "SELECT commits, last_commit_at FROM goq.epochs WHERE epoch = $oldEpoch" | Should -Be $committed -Because 'the old epoch committed nothing after the take-over'
        Invoke-Sql $fo "SELECT (SELECT last_commit_at FROM goq.epochs WHERE epoch = $oldEpoch) < (SELECT started_at FROM goq.epochs WHERE epoch = $newEpoch)" |
            Should -Be 't' -Because 'the old epoch''s last commit came before the new one began'
        Invoke-Sql $fo 'SELECT epoch FROM goq.lease' | Should -Be "$newEpoch" -Because 'the woken server did not take the lease back'
        Invoke-Sql $fo "SELECT count(*) FROM goq.jobs WHERE id IN ($($second.Id -join ',')) AND epoch = $newEpoch" |
            Should -Be '3' -Because 'the jobs submitted after the take-over were last written under the new epoch'

        # The woken server announces itself again every couple of seconds; the whole list reaches the active one now.
        Wait-Until {
            $all = @(try { Get-GoqServer -Home $fo.Home -All -ErrorAction Stop } catch { })
            ($all | Where-Object Endpoint -EQ "tcp://127.0.0.1:$($fo.Ports[0])").Role -eq 'Standby' -and $all[0].Endpoint -eq "tcp://127.0.0.1:$($fo.Ports[1])"
        } -TimeoutSec 30 -Because 'Get-GoqServer -All to list the woken server as Standby'
        @(Get-GoqJob -Home $fo.Home | Where-Object State -EQ 'Completed') | Should -HaveCount 6

        # It stands by for real: when the active server dies, it takes over again and serves the same queue.
        $killed = Stop-ActiveServer $fo
        $box = @{}
        Wait-Until { ($box.Status = Get-ActiveStatus $fo) -and $box.Status.Epoch -gt $killed.Epoch } -TimeoutSec 60 -Because 'the woken server to take over'
        $box.Status.ServerPid | Should -Be $old.Pid
        @(Get-GoqJob -Home $fo.Home | Where-Object State -EQ 'Completed') | Should -HaveCount 6
    }

    It 'lets clients of the whole list reach the server that took over while the old one is paused' {
        $fo = New-FailOverHome
        $old = Start-GoqServer -Home $fo.Home -Port $fo.Ports[0] # listed first
        $old.Role | Should -Be 'Active'
        $null = Start-GoqServer -Home $fo.Home -Port $fo.Ports[1]
        $null = Start-GoqWorker -Home $fo.Home -Slots 2
        $oldEpoch = (Get-GoqServer -Home $fo.Home).Epoch
        & kill -STOP $old.Pid
        try {
            Wait-Until { [long](Invoke-Sql $fo 'SELECT epoch FROM goq.lease') -gt $oldEpoch } -TimeoutSec 60 -Because 'the standby to take the lease'
            Wait-Until { (Get-PidFile $fo $fo.Ports[1])[3] -eq 'Active' } -TimeoutSec 60 -Because 'the standby to serve'
            # A paused server's port still takes connections (its listening socket is open; the kernel accepts), but it
            # answers nothing: a client must go on to the server that serves, within its request timeout and retries.
            $box = @{}
            Wait-Until { ($box.Status = Get-ActiveStatus $fo) } -TimeoutSec 60 -Because 'Get-GoqServer of the whole list to reach the serving server while the old one is paused'
            $box.Status.Endpoint | Should -Be "tcp://127.0.0.1:$($fo.Ports[1])"
            $jobs = 1..3 | ForEach-Object { "echo during $_" } | Submit-GoqJob -Home $fo.Home
            @($jobs | Wait-GoqJob -Home $fo.Home -Timeout 60 | Where-Object State -EQ 'Completed') | Should -HaveCount 3 -Because 'the worker reaches the serving server too'
        }
        finally { & kill -CONT $old.Pid }
    }
}

Describe 'A server on a PostgreSQL store that cannot be used' {
    BeforeEach {
        $script:Homes.Clear()
    }
    AfterEach {
        foreach ($path in $script:Homes) {
            $null = Stop-GoqHomeProcess $path -GraceSec 0
            Remove-Item -Recurse -Force $path -ErrorAction SilentlyContinue
        }
    }

    It 'says at start that the store refused the login when the password is wrong' {
        if ($Pg -is [string]) { Set-ItResult -Skipped -Because $Pg }
        $path = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-failover-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        $script:Homes.Add($path)
        $port = Get-FreePort
        Initialize-GoqHome -Path $path -Servers "127.0.0.1:$port", "127.0.0.1:$(Get-FreePort)" -StoreConnectionString "$($Pg.ConnectionString);Password=not-$($Pg.Password)" | Out-Null
        $failure = { Start-GoqServer -Home $path -Port $port } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'GoqStoreUnavailable,*'
        $failure.CategoryInfo.Category | Should -Be 'SecurityError'
        $failure.Exception.Message | Should -Match "127\.0\.0\.1:$($Pg.Port)"
        $failure.Exception.Message | Should -Match 'refused Goq''s login'
        $failure.Exception.Message | Should -Match 'password authentication failed'
        $failure.Exception.Message | Should -Not -Match $Pg.Password -Because 'no password is told'
        Get-PidFile ([pscustomobject]@{ Home = $path }) $port | Should -BeNullOrEmpty -Because 'no server runs'
        @(Get-GoqHomeProcess $path) | Should -HaveCount 0
    }

    It 'says at start, promptly, that the store cannot be reached when nothing listens there' {
        $path = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-failover-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        $script:Homes.Add($path)
        $port = Get-FreePort
        $nowhere = Get-FreePort # free a moment ago: nothing listens there
        Initialize-GoqHome -Path $path -Servers "127.0.0.1:$port", "127.0.0.1:$(Get-FreePort)" -StoreConnectionString "Host=127.0.0.1;Port=$nowhere;Username=goq;Database=goq;Password=x" | Out-Null
        # Promptly: the store's own error, not the launcher's give-up after its start timeout (GoqServerStartFailed).
        $failure = { Start-GoqServer -Home $path -Port $port } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'GoqStoreUnavailable,*'
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        $failure.Exception.Message | Should -Match "127\.0\.0\.1:$nowhere"
        $failure.Exception.Message | Should -Match 'cannot be reached'
        @(Get-GoqHomeProcess $path) | Should -HaveCount 0 -Because 'the server process ended'
    }
}
