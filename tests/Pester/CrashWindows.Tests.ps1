# Crashes at the exact windows where a promise could break: forced with GOQ_FAULT (a test-only crash point) or by
# killing the server mid-pipeline, with real processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Crash windows' {
    BeforeEach {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        Push-Location $goqHome
    }
    AfterEach {
        Pop-Location
        $env:GOQ_FAULT = $null
        Remove-GoqTestHome $goqHome
        $env:GOQ_HOME = $null
    }

    It 'gives a hand-off committed but never sent back to the queue without spending an attempt' {
        $env:GOQ_FAULT = 'server-exit-after-dispatch-commit:2'
        $server = Start-GoqServer
        $env:GOQ_FAULT = $null
        $null = Start-GoqWorker -Slots 1 -Prefetch 0
        $ledger = Join-Path $goqHome 'ran.txt'
        $first = Submit-GoqJob 'sleep 1'
        # Queued behind the first (no job is taken ahead): it is handed out when the first ends, and the server dies right
        # after that commit.
        $second = Submit-GoqJob "echo ran >> '$ledger'" -MaxAttempts 1
        $second.Id | Should -Be 2
        Wait-Until { -not (Test-ProcessAlive $server.Pid) } -TimeoutSec 30 -Because 'the server to die after committing the hand-off'
        (Test-Path $ledger) | Should -BeFalse -Because 'the dispatch was never sent'

        $null = Start-GoqServer
        $done = Wait-GoqJob $second.Id -Timeout 60
        $done.State | Should -Be 'Completed' -Because 'a hand-off no worker got is not an attempt, even with -MaxAttempts 1'
        $done.Attempts | Should -Be 1
        # Back in the queue as soon as the worker re-announced itself without it, not when the restart grace ran out
        # (the server logs each job the grace's end queues again). No clock is read: the bench holds timings.
        @(Get-GoqLogEntry $goqHome -Event 'jobs.requeued_after_grace') | Should -BeNullOrEmpty
        (Get-GoqServer).DeadWorkerResubmits | Should -Be 0
        Get-Content $ledger | Should -Be 'ran'
        (Get-GoqJob $first.Id).State | Should -Be 'Completed'
    }

    It 'ends the copy of a job whose worker died the instant it spawned it, and runs the job once' {
        $env:GOQ_HEARTBEAT_SEC = '1' # a dead worker in seconds
        try {
            $null = Start-GoqServer
            $env:GOQ_FAULT = 'worker-exit-after-spawn:1'
            $first = Start-GoqWorker -Slots 1
            $env:GOQ_FAULT = $null
            $marker = Join-Path $goqHome 'done.txt'
            $job = Submit-GoqJob "sleep 8.25; echo done >> '$marker'"
            Wait-Until { -not (Test-ProcessAlive $first.Pid) } -Because 'the worker to die right after the spawn'
            $orphan = Get-GoqHomeProcess 'sleep 8.25'
            $orphan | Should -Not -BeNullOrEmpty -Because 'the job outlives its worker'

            # The next worker on the host finds the job in the dead worker's ledger, written before the spawn.
            $null = Start-GoqWorker -Slots 1
            Wait-Until { -not (Get-GoqHomeProcess 'sleep 8.25' | Where-Object Id -In $orphan.Id) } -TimeoutSec 5 -Because 'the abandoned copy to be ended'
            $done = Wait-GoqJob $job.Id -Timeout 60
            $done.State | Should -Be 'Completed'
            Get-Content $marker | Should -Be 'done' -Because 'the job ran to its end once'
            Get-ChildItem (Join-Path $goqHome '.goq/run') -Filter "*.$($first.Id).ledger" | Should -BeNullOrEmpty
        } finally { $env:GOQ_HEARTBEAT_SEC = $null }
    }

    It 'queues every job of a 100,000-job pipeline exactly once while the server is killed -9 three times' {
        $null = Start-GoqServer
        $manifest = Join-Path $RepoRoot 'module/Goq.psd1'
        # The killer: three times, once the queue has grown, kill -9 the server and start it again.
        $killer = Start-ThreadJob -ArgumentList $manifest, $goqHome, ${function:Wait-Until}.ToString() -ScriptBlock {
            param($Manifest, $GoqHome, $WaitUntil)
            Import-Module $Manifest
            ${function:Wait-Until} = [scriptblock]::Create($WaitUntil) # common.ps1's, in this thread's own runspace
            $kills = 0
            foreach ($threshold in 15000, 45000, 75000) {
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ([DateTime]::UtcNow -lt $deadline) {
                    try { if ((Get-GoqServer -Home $GoqHome).NextJobId -gt $threshold) { break } } catch { }
                    Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
                }
                $serverPid = (Get-GoqServer -Home $GoqHome).ServerPid
                Stop-Process -Id $serverPid -Force # kill -9, mid-batch
                Wait-Until { -not (Get-Process -Id $serverPid -ErrorAction SilentlyContinue) } -TimeoutSec 30 -Because "the server ($serverPid) to die of its kill -9"
                $null = Start-GoqServer -Home $GoqHome
                $kills++
            }
            $kills
        }
        $jobs = 1..100000 | ForEach-Object { "true tag-$_" } | Submit-GoqJob
        $kills = $killer | Wait-Job -Timeout 180 | Receive-Job
        $kills | Should -Be 3 -Because 'the server was killed three times during the pipeline'
        $jobs | Should -HaveCount 100000
        @($jobs.Id | Sort-Object -Unique).Count | Should -Be 100000
        $all = Get-GoqJob
        $all | Should -HaveCount 100000
        $tags = $all.Command | Group-Object | Where-Object Count -NE 1
        $tags | Should -BeNullOrEmpty -Because 'each record was queued once'
        ($all.Id -join ',') | Should -Be ($jobs.Id -join ',')
    }
}
