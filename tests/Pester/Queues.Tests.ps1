# Queues, labels, slot counts and queue throttles, with real server and worker processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $plain = Start-GoqWorker -Slots 2
    $wide = Start-GoqWorker -Slots 3 -Prefetch 0 -Queue throttled, wide

    # The most jobs that ran at once, from the jobs' own recorded "start end" lines.
    function Get-MostAtOnce([string] $Path) {
        $events = foreach ($line in Get-Content $Path) {
            $start, $end = $line -split ' ' | ForEach-Object { [double]$_ }
            [pscustomobject]@{ At = $start; Step = 1 }
            [pscustomobject]@{ At = $end; Step = -1 }
        }
        $now = 0; $most = 0
        foreach ($e in $events | Sort-Object At, Step) { $now += $e.Step; $most = [Math]::Max($most, $now) }
        $most
    }

    function Get-TimedCommand([string] $Path, [double] $Seconds = 0.4) {
        "s=`$(date +%s.%N); sleep $Seconds; echo `"`$s `$(date +%s.%N) `$GOQ_JOB_SLOTS`" >> '$Path'"
    }
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -Require and Start-GoqWorker -Label' {
    It 'keeps a job that needs a label no worker has waiting, says why, and runs it on the first worker that has it' {
        $job = Submit-GoqJob 'echo $GOQ_WORKER_ID' -Require gpu
        $job.Require | Should -Be @('gpu')
        Wait-Until { (Get-GoqJob $job.Id).Reason -eq 'no worker has label gpu' } -Because 'the reason a job waits is shown'
        (Get-GoqJob $job.Id).State | Should -Be 'Waiting'

        $gpu = Start-GoqWorker -Slots 1 -Queue gpu, default -Label gpu
        (Get-GoqWorker | Where-Object Id -EQ $gpu.Id).Labels | Should -Be @('gpu')
        $done = $job | Wait-GoqJob -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.WorkerId | Should -Be $gpu.Id
        Receive-GoqJob $job.Id | Should -Be $gpu.Id
    }
}

Describe 'Submit-GoqJob -Queue' {
    It 'runs a job only on a worker serving its queue, and says so while none does' {
        $orphan = Submit-GoqJob 'true' -Queue nobody
        Wait-Until { (Get-GoqJob $orphan.Id).Reason -eq "no connected worker serves queue 'nobody'" } -Because 'the reason is shown'
        $q = Get-GoqQueue nobody
        ($q.WaitingJobs, $q.Workers) | Should -Be @(1, 0)
        Stop-GoqJob $orphan.Id

        $ran = Submit-GoqJob 'echo $GOQ_WORKER_ID' -Queue wide | Wait-GoqJob -Timeout 60
        $ran.Queue | Should -Be 'wide'
        $ran.WorkerId | Should -Be $wide.Id
    }
}

Describe 'Set-GoqQueue -ThrottleLimit and Get-GoqQueue' {
    It 'lets no more than the limit of a queue''s jobs run at once, though the worker has more slots' {
        $set = Set-GoqQueue throttled -ThrottleLimit 2
        $set.ThrottleLimit | Should -Be 2
        $log = Join-Path $goqHome 'throttled.txt'
        $jobs = 1..6 | ForEach-Object { Submit-GoqJob (Get-TimedCommand $log) -Queue throttled }
        Wait-Until { (Get-GoqQueue throttled).RunningJobs -eq 2 } -Because 'two of them running'
        $queue = Get-GoqQueue throttled
        ($queue.ThrottleLimit, $queue.Workers, $queue.Slots) | Should -Be @(2, 1, 3)
        $queue.WaitingJobs | Should -BeGreaterThan 0
        (Get-GoqJob -State Waiting | Where-Object Queue -EQ throttled | Select-Object -First 1).Reason |
            Should -Be "queue 'throttled' is at its throttle limit of 2 running jobs"

        $jobs | Wait-GoqJob -Timeout 90 | ForEach-Object { $_.State | Should -Be 'Completed' }
        Get-MostAtOnce $log | Should -Be 2 -Because 'they ran two at a time, never three'
        (Set-GoqQueue throttled -ThrottleLimit 0).ThrottleLimit | Should -Be 0
    }

    It 'refuses a queue name that is not a plain name' {
        { Set-GoqQueue 'no spaces' -ThrottleLimit 1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.SetGoqQueueCommand'
    }
}

Describe 'Submit-GoqJob -SlotCount' {
    It 'gives a job that many slots of one worker, so two 2-slot jobs never share a 3-slot worker' {
        $log = Join-Path $goqHome 'wide.txt'
        $jobs = 1..3 | ForEach-Object { Submit-GoqJob (Get-TimedCommand $log 0.3) -Queue wide -SlotCount 2 }
        $jobs[0].SlotCount | Should -Be 2
        $jobs | Wait-GoqJob -Timeout 90 | ForEach-Object { $_.State | Should -Be 'Completed' }
        Get-MostAtOnce $log | Should -Be 1
        Get-Content $log | ForEach-Object { ($_ -split ' ')[2] | Should -Be '2' -Because 'the job is told its slots in GOQ_JOB_SLOTS' }
    }

    It 'says so when no worker that could run a job has enough slots' {
        $job = Submit-GoqJob 'true' -Queue wide -SlotCount 5
        Wait-Until { (Get-GoqJob $job.Id).Reason -eq 'needs 5 slots; the largest worker that could run it has 3' } -Because 'the reason is shown'
        Stop-GoqJob $job.Id
    }
}
