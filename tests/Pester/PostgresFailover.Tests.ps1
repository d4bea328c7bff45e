# A Goq server on a PostgreSQL primary with a synchronous standby (tools/TestPostgres.ps1): the primary is stopped hard
# while jobs are being submitted, the standby is promoted, and Npgsql's next connections (the store's connection string
# names both hosts, Target Session Attributes=primary) find it. A submit that fails while the database is away is
# allowed; a job whose id Submit-GoqJob returned (acknowledged) must be in the promoted database and known to the
# server afterwards. Skipped with the reason where the pair of instances cannot be made.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $RepoRoot 'tools/TestPostgres.ps1')
    $script:Pair = Start-GoqTestPostgresPair
    $script:GoqHome = $null
    $script:Submitter = $null
    if ($Pair -isnot [string]) {
        $script:GoqHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-pgfo-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        New-Item -ItemType Directory -Path $GoqHome | Out-Null
        # One server: its lease has the default length; the password goes to .goq/store.password.
        Initialize-GoqHome -Path $GoqHome -Port (Get-FreePort) -StoreConnectionString "$($Pair.ConnectionString);Password=$($Pair.Password)" | Out-Null
        $script:Server = Start-GoqServer -Home $GoqHome
        $script:Worker = Start-GoqWorker -Home $GoqHome -Slots 2
    }

    # Submits batches of five 'true' jobs in a loop, in a runspace of its own, until $State.Stop: every id that
    # Submit-GoqJob returns is appended to $AckFile as it comes out (acknowledged), and each batch is recorded in
    # $State.Batches with the phase of the test when it was sent, whether it failed, and why.
    function Start-Submitter([string] $AckFile) {
        $state = [hashtable]::Synchronized(@{ Stop = $false; Phase = 'before'; Batches = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new()) })
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($Manifest, $GoqHome, $AckFile, $State)
            $ErrorActionPreference = 'Stop'
            Import-Module $Manifest
            $n = 0
            while (-not $State.Stop) {
                $n++
                $phase = $State.Phase
                $acked = 0
                $failure = $null
                try {
                    $errors = $null
                    1..5 | ForEach-Object { 'true' } |
                        Submit-GoqJob -Home $GoqHome -Name "fo$n" -ErrorAction SilentlyContinue -ErrorVariable errors -WarningAction SilentlyContinue |
                        ForEach-Object { [System.IO.File]::AppendAllText($AckFile, "$($_.Id)`n"); $acked++ }
                    if ($errors) { $failure = $errors[0] }
                } catch { $failure = $_ }
                $null = $State.Batches.Add([pscustomobject]@{
                    Batch = $n; Phase = $phase; Acked = $acked; Failed = $null -ne $failure
                    ErrorId = "$($failure.FullyQualifiedErrorId)"; Error = "$($failure.Exception.Message)"
                })
                # Pacing for a load that fails fast while the store is away, not a wait for anything.
                if ($failure) { Start-Sleep -Milliseconds 50 }
            }
        }).AddArgument((Join-Path $RepoRoot 'module/Goq.psd1')).AddArgument($GoqHome).AddArgument($AckFile).AddArgument($state)
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke(); State = $state }
    }

    function Stop-Submitter($Submitter) {
        if ($null -eq $Submitter) { return }
        $Submitter.State.Stop = $true
        # A batch in flight ends within the submit's own retry window (SubmitRetrySec, 30 s by default).
        if (-not $Submitter.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60))) { $null = Stop-PowerShellWithin $Submitter.PowerShell }
        $Submitter.PowerShell.Streams.Error | ForEach-Object { Write-Host "submitter error: $_" }
        $Submitter.PowerShell.Dispose()
    }

    function Get-Batches($Submitter, [string] $Phase) { @($Submitter.State.Batches.ToArray() | Where-Object { -not $Phase -or $_.Phase -eq $Phase }) }

    # What the server says and logged: for a failure's message, and for the report.
    function Get-ServerEvidence {
        $status = try { Get-GoqServer -Home $GoqHome -ErrorAction Stop | Format-List | Out-String } catch { "Get-GoqServer failed: $($_.Exception.Message)" }
        $logs = Get-ChildItem (Join-Path $GoqHome '.goq') -Filter 'server*.log' -ErrorAction SilentlyContinue |
            ForEach-Object { "--- $($_.Name)"; Get-Content $_.FullName -Tail 40 }
        $stderr = Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter 'server*.stderr' -ErrorAction SilentlyContinue |
            ForEach-Object { "--- $($_.Name)"; Get-Content $_.FullName -Tail 20 }
        "Get-GoqServer:`n$status`n$(($logs + $stderr) -join "`n")"
    }
}

AfterAll {
    Stop-Submitter $Submitter
    Remove-GoqTestHome $GoqHome
    Stop-GoqTestPostgresPair $Pair
}

Describe 'A Goq store on a PostgreSQL primary with a synchronous standby' {
    BeforeEach { if ($Pair -is [string]) { Set-ItResult -Skipped -Because $Pair } }

    It 'replicates synchronously: a commit is acknowledged only once the standby has it' {
        $query = "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$($Pair.ApplicationName)' AND state = 'streaming'"
        Invoke-GoqTestPostgresSql $Pair.Primary $query | Should -Be 'sync'
        Invoke-GoqTestPostgresSql $Pair.Primary 'SHOW synchronous_commit' | Should -Be 'on'
        Invoke-GoqTestPostgresSql $Pair.Primary 'SHOW synchronous_standby_names' | Should -Be $Pair.ApplicationName
        Invoke-GoqTestPostgresSql $Pair.Standby 'SELECT pg_is_in_recovery()' | Should -Be 't'
        # The Goq server writes to the primary; what it commits reaches the standby.
        $job = Submit-GoqJob -Home $GoqHome 'true'
        Wait-Until { (Invoke-GoqTestPostgresSql $Pair.Standby "SELECT count(*) FROM goq.jobs WHERE id = $($job.Id)") -eq '1' } -Because 'the job to be replayed on the standby'
    }

    Context 'the synchronous PostgreSQL standby promoted under load' {
        BeforeAll {
            if ($Pair -is [string]) { return }
            $ackFile = Join-Path $TestDrive 'acknowledged.txt'
            $script:ServerPid = (Get-GoqServer -Home $GoqHome).ServerPid
            $script:Submitter = Start-Submitter $ackFile
            Wait-Until { @(Get-Batches $Submitter 'before' | Where-Object { -not $_.Failed }).Count -ge 5 } -TimeoutSec 60 -Because 'the submitter to have jobs acknowledged'

            $Submitter.State.Phase = 'failing-over'
            Stop-GoqTestPostgresHard $Pair.Primary
            Invoke-GoqTestPostgresPromotion $Pair.Standby
            $Submitter.State.Phase = 'promoted'

            # The server should ride it out by itself: retry its commits while the database is away (refusing changes
            # with GoqStoreUnavailable) and find the promoted standby with its next connections. Waited for until
            # submits succeed again, or the server process has gone.
            $recoveredIn = {
                param([string] $Phase)
                @(Get-Batches $Submitter $Phase | Where-Object { -not $_.Failed -and $_.Acked -eq 5 }).Count -ge 5
            }
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not (& $recoveredIn 'promoted') -and (Test-ProcessAlive $ServerPid) -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 100 # poll step, bounded by the deadline
            }
            $script:RecoveredByItself = (& $recoveredIn 'promoted') -and (Test-ProcessAlive $ServerPid)
            $script:Evidence = Get-ServerEvidence
            $script:Restarted = $false
            if (-not $RecoveredByItself) {
                # WORKAROUND, reported by the test 'rides the fail-over out by itself': the server did not recover (it
                # exited, or never took submits again). A fresh server is started on the same home and promoted
                # database, so what the fail-over did to the acknowledged jobs can still be checked.
                Write-Host "WORKAROUND: the Goq server did not ride the fail-over out (alive: $(Test-ProcessAlive $ServerPid)); restarting it to check the data"
                if (Test-ProcessAlive $ServerPid) { Stop-Process -Id $ServerPid -Force; Wait-Until { -not (Test-ProcessAlive $ServerPid) } -Because 'the stuck server to exit' }
                $Submitter.State.Phase = 'restarted'
                $script:Restarted = $true
                $null = Start-GoqServer -Home $GoqHome
                Wait-Until { & $recoveredIn 'restarted' } -TimeoutSec 90 -Because 'submits to succeed on the restarted server'
            }
            Stop-Submitter $Submitter
            $script:Batches = Get-Batches $Submitter
            $script:Submitter = $null
            $script:Acked = @(Get-Content $ackFile | Where-Object { $_ } | ForEach-Object { [long]$_ })
            $failures = @($Batches | Where-Object Failed)
            Write-Host ("batches: {0} before, {1} during the fail-over, {2} after it, {3} after the restart; {4} failed: {5}" -f @(
                @($Batches | Where-Object Phase -EQ 'before').Count, @($Batches | Where-Object Phase -EQ 'failing-over').Count,
                @($Batches | Where-Object Phase -EQ 'promoted').Count, @($Batches | Where-Object Phase -EQ 'restarted').Count, $failures.Count,
                (($failures | Group-Object Phase, ErrorId | ForEach-Object { "$($_.Count) x $($_.Name): $($_.Group[0].Error)" }) -join '; ')))
            if (-not $RecoveredByItself) { Write-Host $Evidence }
        }

        It 'loses no acknowledged job' {
            $Acked.Count | Should -BeGreaterThan 0
            $Acked.Count | Should -Be (($Batches | Measure-Object Acked -Sum).Sum) -Because 'every id Submit-GoqJob returned was recorded'
            $inDatabase = @(Invoke-GoqTestPostgresSql $Pair.Standby "SELECT id FROM goq.jobs WHERE id = ANY('{$($Acked -join ',')}'::bigint[])" | ForEach-Object { [long]$_ })
            @($Acked | Where-Object { $_ -notin $inDatabase }) | Should -BeNullOrEmpty -Because "every acknowledged job ($($Acked.Count)) must be in the promoted database"
            $known = @(Get-GoqJob -Home $GoqHome -Id $Acked -ErrorAction SilentlyContinue | ForEach-Object Id)
            @($Acked | Where-Object { $_ -notin $known }) | Should -BeNullOrEmpty -Because 'Get-GoqJob knows every acknowledged job'
        }

        It 'runs every acknowledged job to its end' {
            # None is stuck: a job dispatched, or ended, while the database was away is settled on the promoted one.
            $ended = @(Wait-GoqJob -Home $GoqHome -Id $Acked -Timeout 120)
            $ended | Should -HaveCount $Acked.Count
            @($ended | Where-Object State -NE 'Completed' | ForEach-Object { "$($_.Id): $($_.State)" }) | Should -BeNullOrEmpty
        }

        It 'takes submits again after the promotion, and runs them' {
            @($Batches | Where-Object { $_.Phase -in 'promoted', 'restarted' -and -not $_.Failed }).Count | Should -BeGreaterThan 0
            Submit-GoqJob -Home $GoqHome 'true' | Wait-GoqJob -Home $GoqHome -Timeout 60 | ForEach-Object State | Should -Be 'Completed'
        }

        It 'rides the fail-over out by itself: the same server process takes submits again, without a restart' {
            $RecoveredByItself | Should -BeTrue -Because "the Goq server should retry while the database is away and take submits again by itself once the standby is promoted; it did not (alive: $(Test-ProcessAlive $ServerPid)). $Evidence"
            (Get-GoqServer -Home $GoqHome).ServerPid | Should -Be $ServerPid
        }
    }
}
