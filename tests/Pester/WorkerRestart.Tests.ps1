# A worker whose jobs a job keeper holds (Start-GoqWorker) can be killed -9 and started again on the same
# host, as a supervisor would, without losing or re-running any job.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # A worker is dead after 8 s of silence (a supervisor restarts a worker well within that); its keeper gives up a
    # heartbeat before.
    $env:GOQ_HEARTBEAT_SEC = '1'
    $env:GOQ_DEAD_WORKER_SEC = '8'
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null; $env:GOQ_DEAD_WORKER_SEC = $null }

Describe 'Restarting a worker' {
    BeforeEach {
        $goqHome = Enter-GoqTestHome
        $work = $goqHome
    }
    AfterEach { Exit-GoqTestHome $goqHome }

    It 'takes its jobs back after kill -9: running ones go on, one that ended meanwhile keeps its exit code, none runs twice' {
        $worker = Start-GoqWorker -Slots 2
        $quick = Submit-GoqJob "echo quick-start; sleep 1; echo quick >> '$work/quick.txt'; exit 3"
        $long = Submit-GoqJob "echo long-start; sleep 5; echo long >> '$work/long.txt'; echo long-end"
        Wait-Until { (Get-GoqJob $long.Id).Pid -and (Get-GoqJob $quick.Id).Pid } -Because 'both jobs to start'
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id

        Stop-Process -Id $worker.Pid -Force # kill -9 of the worker users see
        Wait-Until { Test-Path "$work/quick.txt" } -TimeoutSec 10 -Because 'the quick job to end while no worker runs'
        Test-ProcessAlive $keeper | Should -BeTrue -Because 'the keeper outlives the worker process'

        $again = Start-GoqWorker -Slots 2 # as a supervisor would, within a few seconds
        $again.Id | Should -Be $worker.Id -Because 'the new worker process carries on as the same worker'
        $again.Pid | Should -Not -Be $worker.Pid
        $done = Wait-GoqJob $quick.Id, $long.Id -Timeout 60
        $quickDone = $done | Where-Object Id -EQ $quick.Id
        $quickDone.State | Should -Be 'Failed'
        $quickDone.ExitCode | Should -Be 3 -Because 'the real exit code of a job that ended while no worker ran'
        ($done | Where-Object Id -EQ $long.Id).State | Should -Be 'Completed'
        $done.Attempts | Should -Be @(1, 1) -Because 'no job was run again'
        Get-Content "$work/quick.txt" | Should -Be 'quick'
        Get-Content "$work/long.txt" | Should -Be 'long'
        Receive-GoqJob $long.Id | Should -Be @('long-start', 'long-end')
        (Get-GoqServer).DeadWorkerResubmits | Should -Be 0
        (Get-GoqWorker).Pid | Should -Be $again.Pid
    }

    It 'ends the jobs when no worker comes back within the dead-worker time, and they run elsewhere' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob "sleep 30.5; echo never >> '$work/never.txt'"
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        Stop-Process -Id $worker.Pid -Force
        Wait-Until { -not (Test-ProcessAlive $keeper) } -TimeoutSec 15 -Because 'the keeper to give up and end its jobs'
        Get-GoqHomeProcess 'sleep 30.5' | Should -BeNullOrEmpty -Because 'the copy ended with its keeper'

        $null = Start-GoqWorker -Slots 1
        Wait-Until { (Get-GoqJob $job.Id).Attempts -eq 2 -and (Get-GoqJob $job.Id).State -eq 'Running' } -TimeoutSec 30 -Because 'the job to run again elsewhere'
        (Get-GoqServer).DeadWorkerResubmits | Should -Be 1
        Stop-GoqJob $job.Id | Out-Null
    }

    It 'restarts in place with Stop-GoqWorker -Restart: a new process, the same worker, its job goes on' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob "echo before; sleep 3; echo after"
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        $restarted = Stop-GoqWorker -Id $worker.Id -Restart -PassThru
        $restarted.Id | Should -Be $worker.Id
        $restarted.Pid | Should -Not -Be $worker.Pid
        Test-ProcessAlive $worker.Pid | Should -BeFalse
        $done = Wait-GoqJob $job.Id -Timeout 30
        $done.State | Should -Be 'Completed'
        $done.Attempts | Should -Be 1
        Receive-GoqJob $job.Id | Should -Be @('before', 'after')
    }

    It 'stops the worker and its keeper together when asked to stop' {
        $worker = Start-GoqWorker -Slots 1
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        Stop-GoqWorker -Id $worker.Id
        Wait-Until { -not (Test-ProcessAlive $keeper) -and -not (Test-ProcessAlive $worker.Pid) } -TimeoutSec 15 -Because 'both processes to exit'
        Get-ChildItem (Join-Path $goqHome '.goq/run') -Filter '*.keeper' | Should -BeNullOrEmpty
    }

    It 'reports the end of a job that finished just before its keeper died, from the next worker: it does not run again' {
        $job = Submit-GoqJob "echo ran >> '$work/ran.txt'; exit 3" # waits: no worker yet
        $env:GOQ_FAULT = "worker-exit-after-end:$($job.Id)" # the keeper dies once the end is in its ledger, before it is sent
        try { $worker = Start-GoqWorker -Slots 1 } finally { $env:GOQ_FAULT = $null }
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        Wait-Until { -not (Test-ProcessAlive $keeper) -and -not (Test-ProcessAlive $worker.Pid) } -Because 'the keeper to die, and its relay with it'
        (Get-GoqJob $job.Id).State | Should -Be 'Running' -Because 'the server never heard of the end'

        $again = Start-GoqWorker -Slots 1 # as a supervisor would: a new keeper, which finds the dead one's ledger
        $again.Id | Should -Not -Be $worker.Id
        $done = Wait-GoqJob $job.Id -Timeout 60
        ($done.State, $done.ExitCode, $done.Attempts) | Should -Be @('Failed', 3, 1) -Because 'the recorded end, not a second run'
        $done.WorkerId | Should -Be $worker.Id -Because 'the end is the first worker''s, reported for it'
        @(Get-Content "$work/ran.txt").Count | Should -Be 1
        @(Get-GoqLogEntry $goqHome -Worker -Event 'job.end_adopted').Count | Should -Be 1
        # Whether the server declared the dead worker lost before the end came (DeadWorkerResubmits) depends on how
        # fast the machine starts the next worker; the next test makes it so. Either way the job ran once.
    }

    It 'reports such an end even after the server declared the dead worker lost and queued the job again: it does not run again' {
        $job = Submit-GoqJob "echo ran >> '$work/ran.txt'; exit 4"
        $env:GOQ_FAULT = "worker-exit-after-end:$($job.Id)"
        try { $worker = Start-GoqWorker -Slots 1 } finally { $env:GOQ_FAULT = $null }
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        Wait-Until { -not (Test-ProcessAlive $keeper) -and -not (Test-ProcessAlive $worker.Pid) } -Because 'the keeper to die, and its relay with it'
        Wait-Until { (Get-GoqJob $job.Id).State -eq 'Waiting' } -TimeoutSec 30 -Because 'the server to declare the worker dead and queue the job again'
        (Get-GoqServer).DeadWorkerResubmits | Should -Be 1

        $null = Start-GoqWorker -Slots 1 # its hello would bring the waiting job: the dead worker's end goes first
        $done = Wait-GoqJob $job.Id -Timeout 60
        ($done.State, $done.ExitCode, $done.Attempts, $done.WorkerId) | Should -Be @('Failed', 4, 1, $worker.Id) -Because 'the recorded end, not a second run'
        @(Get-Content "$work/ran.txt").Count | Should -Be 1
        @(Get-GoqJob $job.Id -IncludeAttempts).Count | Should -Be 1 -Because 'the run was not lost after all'
        (Get-GoqServer).DeadWorkerResubmits | Should -Be 1 -Because 'the re-queue happened, and a counter never goes back'
    }

    It 'ends a job with its keeper killed -9, before the server hands it out again, with no other worker on the host' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 300.7'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        Get-GoqHomeProcess 'sleep 300.7' | Should -Not -BeNullOrEmpty
        Stop-Process -Id (Get-GoqKeeperPid $goqHome $worker.Id) -Force
        Wait-Until { -not (Get-GoqHomeProcess 'sleep 300.7') } -Because 'the job to die with its keeper (its sentinel kills its group)'
        $seen = Get-GoqJob $job.Id
        ($seen.State, $seen.Attempts) | Should -Be @('Running', 1) -Because 'the job died before the server declared its worker dead and ran it again'
        Stop-GoqJob $job.Id | Out-Null
    }
}
