BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1' # dead workers and restart grace in seconds, not tens of seconds
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null }

Describe 'Nothing accepted is lost' {
    BeforeEach {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        $work = Join-Path $goqHome 'work'
        New-Item -ItemType Directory $work | Out-Null
        Push-Location $work
        Start-GoqServer | Out-Null
    }
    AfterEach {
        Pop-Location
        Remove-GoqTestHome $goqHome
        $env:GOQ_HOME = $null
    }

    BeforeAll {
        # A one-slot worker running $Command, once the worker has recorded the job's process in its ledger: the worker,
        # the job and the job's pid.
        function Start-RecordedJob([string] $Command) {
            $worker = Start-GoqWorker -Slots 1
            $job = Submit-GoqJob $Command
            Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
            (Get-GoqJob $job.Id).WorkerId | Should -Be $worker.Id
            Wait-Until { Test-Path (Join-Path $goqHome ".goq/run/*.$($worker.Id).ledger") } -Because 'the worker to record its job'
            $worker, $job, (Get-GoqJob $job.Id).Pid
        }
    }

    It 'runs every acknowledged job exactly once when the server is killed -9 mid-run and restarted' {
        $workers = @(Start-GoqWorker -Slots 2; Start-GoqWorker -Slots 2 -Force)
        $marker = Join-Path $work 'runs.txt'
        $jobs = 1..1000 | ForEach-Object { "echo $_ >> '$marker'; echo output $_" } | Submit-GoqJob
        $jobs | Should -HaveCount 1000
        $killAt = Get-Random -Minimum 50 -Maximum 600
        Wait-Until { (Test-Path $marker) -and @(Get-Content $marker).Count -ge $killAt } -TimeoutSec 60 -Because "$killAt jobs to run"
        $serverPid = (Get-GoqServer).ServerPid
        Stop-Process -Id $serverPid -Force # kill -9: no goodbye, no final save
        Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the server to die'

        Start-GoqServer | Out-Null
        $done = $jobs | Wait-GoqJob -Timeout 120
        $done | Should -HaveCount 1000
        $done.State | Sort-Object -Unique | Should -Be 'Completed'
        $runs = Get-Content $marker | Group-Object | Where-Object Count -NE 1
        $runs | Should -BeNullOrEmpty -Because 'no job may run twice'
        @(Get-Content $marker).Count | Should -Be 1000
        (Get-GoqJob).Count | Should -Be 1000
        # Every job's output arrived, once: none lost in flight when the server died, none written twice.
        $wrong = $jobs | Where-Object { @(Get-Content (Join-Path $work ('o/out.{0:D5}' -f $_.Id))) -join '|' -ne "output $($_.Id)" }
        $wrong | Should -BeNullOrEmpty
        (Submit-GoqJob 'true').Id | Should -Be 1001 -Because 'ids are never reused'
    }

    It 'runs a dependency chain in order, each step once, when the server is killed -9 in the middle of it' {
        $null = Start-GoqWorker -Slots 2
        $marker = Join-Path $work 'steps.txt'
        $steps = @(Submit-GoqJob "echo 1 >> '$marker'; sleep 0.3")
        foreach ($i in 2..8) {
            $steps += Submit-GoqJob "echo $i >> '$marker'; sleep 0.3" -DependsOn $steps[-1].Id
        }
        $broken = Submit-GoqJob 'exit 1' -DependsOn $steps[2].Id
        $afterBroken = Submit-GoqJob 'echo never' -DependsOn $broken.Id
        Wait-Until { (Test-Path $marker) -and @(Get-Content $marker).Count -ge 4 } -TimeoutSec 60 -Because 'half the chain to run'
        $serverPid = (Get-GoqServer).ServerPid
        Stop-Process -Id $serverPid -Force # kill -9, in the middle of the chain
        Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the server to die'

        Start-GoqServer | Out-Null
        $done = @($steps) + $broken + $afterBroken | Wait-GoqJob -Timeout 120 | Sort-Object Id # Wait-GoqJob writes jobs as they end
        $done.State | Should -Be (@('Completed') * 8 + 'Failed', 'DependencyFailed')
        Get-Content $marker | Should -Be (1..8 | ForEach-Object { "$_" }) -Because 'each step ran once, in order'
    }

    It 'runs every task of an array once when the server is killed -9 in the middle of it' {
        $null = Start-GoqWorker -Slots 2
        $marker = Join-Path $work 'tasks.txt'
        $array = Submit-GoqJob "echo `$GOQ_ARRAY_ID >> '$marker'; sleep 0.2" -ArrayIndex (0..19) -ThrottleLimit 2
        Wait-Until { (Test-Path $marker) -and @(Get-Content $marker).Count -ge 6 } -TimeoutSec 60 -Because 'part of the array to run'
        $serverPid = (Get-GoqServer).ServerPid
        Stop-Process -Id $serverPid -Force # kill -9, in the middle of the array
        Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the server to die'

        Start-GoqServer | Out-Null
        $done = Wait-GoqJob $array.Id -Timeout 120
        $done | Should -HaveCount 20
        $done.State | Sort-Object -Unique | Should -Be 'Completed'
        Get-Content $marker | Sort-Object { [int]$_ } | Should -Be (0..19 | ForEach-Object { "$_" }) -Because 'each task ran once'
    }

    It 're-queues the job of a worker killed -9 with its keeper, whose copy dies with it, and completes the job once' {
        $marker = Join-Path $work 'finished.txt'
        # The first run lasts long enough to outlive a slow worker start: only its kill can keep it from writing.
        $first, $job, $orphan = Start-RecordedJob "echo started; if [ `$GOQ_JOB_ATTEMPT = 1 ]; then sleep 120; else sleep 1; fi; echo done >> '$marker'"
        # The keeper holds the jobs (a worker killed alone takes them back: WorkerRestart.Tests.ps1): both die here.
        $keeper = Get-GoqKeeperPid $goqHome $first.Id
        Stop-Process -Id $keeper, $first.Pid -Force
        # SIGKILL is delivered, not awaited: a worker started while the killed one still lives is rightly refused as its twin.
        Wait-Until { -not (Test-ProcessAlive $keeper) -and -not (Test-ProcessAlive $first.Pid) } -Because 'the worker and its keeper to die'
        # The job has a session of its own, but its keeper's sentinel kills its group: it does not run twice at once.
        Wait-Until { -not (Test-ProcessAlive $orphan) } -TimeoutSec 10 -Because 'the abandoned copy to be killed'
        $second = Start-GoqWorker -Slots 1
        $done = Wait-GoqJob $job.Id -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.WorkerId | Should -Be $second.Id
        $done.Attempts | Should -Be 2
        Get-Content $marker | Should -Be 'done'
        (Get-GoqServer).DeadWorkerResubmits | Should -BeGreaterOrEqual 1
        (Get-GoqWorker).Id | Should -Not -Contain $first.Id
    }

    It 'has a worker that already runs on the host end the copy a dead neighbour left behind' {
        $first, $job, $orphan = Start-RecordedJob 'echo started; sleep 1000'
        $second = Start-GoqWorker -Slots 1 -Force # started while the first still lives: its start-up sweep finds nothing to end
        Test-ProcessAlive $orphan | Should -BeTrue

        Stop-Process -Id (Get-GoqKeeperPid $goqHome $first.Id), $first.Pid -Force
        # No worker starts after this: the second one's heartbeat (1 s here) must find the abandoned job and end it.
        Wait-Until { -not (Test-ProcessAlive $orphan) } -TimeoutSec 10 -Because 'the running neighbour to end the abandoned copy'
        Test-Path (Join-Path $goqHome ".goq/run/*.$($first.Id).ledger") | Should -BeFalse -Because 'the dead worker''s ledger is swept'
        Wait-Until { (Get-GoqJob $job.Id).WorkerId -eq $second.Id } -TimeoutSec 30 -Because 'the job to be re-queued to the live worker'
        (Get-GoqJob $job.Id).Attempts | Should -Be 2
        Stop-GoqJob $job.Id
    }

    It 'keeps running and waiting jobs over a graceful restart, and does not run the running one again' {
        $marker = Join-Path $work 'runs.txt'
        Start-GoqWorker -Slots 1 -Prefetch 0 | Out-Null # the second job waits in the server's queue, not held ahead by the worker
        # The running job goes on until the test lets it (a file), whatever a restart takes on a busy host.
        $gate = Join-Path $work 'restart-gate'
        $running = Submit-GoqJob "echo run >> '$marker'; while [ ! -e '$gate' ]; do sleep 0.1; done; echo finished"
        $waiting = Submit-GoqJob 'echo second'
        Wait-Until { (Get-GoqJob $running.Id).Pid } -Because 'the first job to start'
        $status = Get-GoqServer
        $status.RunningJobs | Should -Be 1
        $status.WaitingJobs | Should -Be 1
        $status.NextJobId | Should -Be 3

        Stop-GoqServer -Confirm:$false
        Start-GoqServer | Out-Null
        $status = Get-GoqServer
        $status.RunningJobs | Should -Be 1
        $status.WaitingJobs | Should -Be 1
        $status.NextJobId | Should -Be 3

        Set-Content $gate 'go'
        $done = $running, $waiting | Wait-GoqJob -Timeout 60
        $done.State | Should -Be @('Completed', 'Completed')
        (Get-GoqJob $running.Id).Attempts | Should -Be 1
        Get-Content $marker | Should -Be 'run'
        Receive-GoqJob $running.Id | Should -Be 'finished'
    }

    It 'keeps a waiter waiting across a server restart' {
        Start-GoqWorker -Slots 1 | Out-Null
        $job = Submit-GoqJob 'sleep 4; echo late'
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Wait-GoqJob -Home '$goqHome' -Id $($job.Id)")
        $async = $ps.BeginInvoke()
        try {
            Wait-Until { (Get-GoqServer).WatchedJobs -eq 1 } -Because 'the waiter to register'
            Stop-GoqServer -Confirm:$false
            Start-GoqServer | Out-Null
            $async.AsyncWaitHandle.WaitOne(60000) | Should -BeTrue
            $result = $ps.EndInvoke($async)
            $ps.Streams.Error | Should -BeNullOrEmpty
            $result[0].State | Should -Be 'Completed'
        } finally { $ps.Dispose() }
    }
}
