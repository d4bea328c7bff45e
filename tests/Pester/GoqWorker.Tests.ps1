BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # Any job counts as short, so a worker that has run one takes jobs ahead however loaded the machine is.
    $env:GOQ_PREFETCH_HORIZON_MS = '60000'
    $goqHome = Enter-GoqTestHome
}
AfterAll {
    Exit-GoqTestHome $goqHome
    $env:GOQ_PREFETCH_HORIZON_MS = $null
}

Describe 'Start-GoqWorker, Get-GoqWorker, Stop-GoqWorker' {
    It 'shows 10 idle slots as WaitingWorkers = 10, and Stop-GoqWorker -Idle ends them all' {
        $workers = @(Start-GoqWorker -Slots 4; Start-GoqWorker -Slots 6)
        $workers | Should -HaveCount 2
        $workers[0] | Should -BeOfType ([Goq.WorkerInfo])
        (Get-GoqServer).WaitingWorkers | Should -Be 10

        $listed = Get-GoqWorker
        $listed.Id | Sort-Object | Should -Be ($workers.Id | Sort-Object)
        ($listed | Measure-Object Slots -Sum).Sum | Should -Be 10
        $listed | ForEach-Object { $_.BusySlots | Should -Be 0; $_.Host | Should -Be ([Environment]::MachineName) }

        Stop-GoqWorker -Idle
        (Get-GoqServer).WaitingWorkers | Should -Be 0
        Wait-Until { -not ($workers.Pid | Where-Object { Test-ProcessAlive $_ }) } -Because 'the idle worker processes to exit'
        Get-GoqWorker | Should -BeNullOrEmpty
    }

    It 'runs one job and exits with -OneShot' {
        $jobs = 1..2 | ForEach-Object { Submit-GoqJob 'true' }
        $worker = Start-GoqWorker -OneShot
        Wait-GoqJob $jobs[0].Id -Timeout 30 | Select-Object -ExpandProperty State | Should -Be 'Completed'
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'the one-shot worker to exit'
        (Get-GoqJob $jobs[1].Id).State | Should -Be 'Waiting'
        $finisher = Start-GoqWorker -Slots 1
        (Wait-GoqJob $jobs[1].Id -Timeout 30).State | Should -Be 'Completed'
        Stop-GoqWorker -Id $finisher.Id
    }

    It 'rejoins a restarted server by itself (its heartbeat announces it)' {
        $worker = Start-GoqWorker -Slots 1
        Stop-GoqServer -Confirm:$false
        Start-GoqServer | Out-Null
        Wait-Until { (Get-GoqWorker).Id -contains $worker.Id } -TimeoutSec 20 -Because 'the worker to re-announce itself'
        (Submit-GoqJob 'echo back' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed'
        Stop-GoqWorker -Id $worker.Id
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'the worker to exit'
    }

    It 'runs in the foreground with -Wait; Ctrl+C kills its running job and it leaves the server' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Start-GoqWorker -Home '$goqHome' -Slots 1 -Wait")
        $async = $ps.BeginInvoke()
        try {
            Wait-Until { @(Get-GoqWorker | Where-Object Pid -EQ $PID).Count -eq 1 } -Because 'the in-process worker to register'
            $job = Submit-GoqJob 'echo started; sleep 300'
            Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
            $jobPid = (Get-GoqJob $job.Id).Pid
            $ps.Stop()
            Test-ProcessAlive $jobPid | Should -BeFalse
            Wait-Until { @(Get-GoqWorker | Where-Object Pid -EQ $PID).Count -eq 0 } -Because 'the worker to leave'
            (Get-GoqJob $job.Id).State | Should -Be 'Waiting' # killed with its worker, so queued again
            Stop-GoqJob $job.Id
        } finally { $ps.Dispose() }
    }

    It 'lets a busy worker finish its job with -Drain, and kills and re-queues it by default' {
        $drained = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        Stop-GoqWorker -Id $drained.Id -Drain
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
        Wait-Until { -not (Test-ProcessAlive $drained.Pid) } -Because 'the drained worker to exit'

        $killed = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 30'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        $jobPid = (Get-GoqJob $job.Id).Pid
        Stop-GoqWorker -Id $killed.Id -Force
        Wait-Until { -not (Test-ProcessAlive $killed.Pid) } -Because 'the stopped worker to exit'
        Test-ProcessAlive $jobPid | Should -BeFalse
        $again = Get-GoqJob $job.Id
        $again.State | Should -Be 'Waiting'
        $again.Attempts | Should -Be 1
        Stop-GoqJob $job.Id
    }

    It 'takes up to -Prefetch jobs ahead while its slots are busy, shows them, and runs them as slots free; -Prefetch 0 takes none' {
        $flag = Join-Path $goqHome 'prefetch-go'
        $worker = Start-GoqWorker -Slots 1 -Prefetch 2
        $worker.Prefetch | Should -Be 2
        (Submit-GoqJob 'true' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed' # the server hands jobs ahead to a worker whose jobs it knows to be short
        $jobs = @(Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done") + @(1..3 | ForEach-Object { Submit-GoqJob "echo ahead $_" })
        # Held ahead (shown as Running, not started), then given back unstarted after a quarter of a second without a slot.
        foreach ($held in $jobs[1..2]) {
            Wait-Until { Get-GoqLogEntry $goqHome -Worker -Event job.given_back | Where-Object { $_.jobId -eq $held.Id -and $_.workerId -eq $worker.Id } } -Because "job $($held.Id) to be given back"
        }
        $jobs[1..3] | ForEach-Object { $j = Get-GoqJob $_.Id; $j.State | Should -Be 'Waiting'; $j.Attempts | Should -Be 0 }
        $listed = Get-GoqWorker | Where-Object Id -EQ $worker.Id
        $listed.BusySlots | Should -Be 1
        $listed.PrefetchedJobs | Should -Be 0 -Because 'it takes no more ahead until a job of its ends'
        ($listed | Format-Table | Out-String) | Should -Match 'Ahead'

        New-Item -ItemType File $flag | Out-Null
        $done = $jobs | Wait-GoqJob -Timeout 60
        $done.State | Should -Be @('Completed', 'Completed', 'Completed', 'Completed')
        $done.Attempts | Should -Be @(1, 1, 1, 1)
        (Receive-GoqJob $jobs[1..3].Id) | Should -Be @('ahead 1', 'ahead 2', 'ahead 3')
        Stop-GoqWorker -Id $worker.Id

        Remove-Item $flag
        $none = Start-GoqWorker -Slots 1 -Prefetch 0
        $blocker = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done"
        $behind = Submit-GoqJob 'echo behind'
        Wait-Until { (Get-GoqJob $blocker.Id).Pid } -Because 'the first job to start'
        (Get-GoqJob $behind.Id).State | Should -Be 'Waiting'
        (Get-GoqWorker | Where-Object Id -EQ $none.Id).PrefetchedJobs | Should -Be 0
        New-Item -ItemType File $flag | Out-Null
        ($blocker, $behind | Wait-GoqJob -Timeout 60).State | Should -Be @('Completed', 'Completed')
        Stop-GoqWorker -Id $none.Id
    }

    It 'rejects a non-positive slot count' {
        { Start-GoqWorker -Slots 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.StartGoqWorkerCommand'
    }

    It 'reports an unknown worker id as ObjectNotFound' {
        $err = $null
        Stop-GoqWorker -Id 'ffffffffffffffffffffffffffffffff' -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GoqWorkerNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

# A worker that cannot join (here a clock 10 minutes ahead, GOQ_FAULT=clock-ahead:600, a test-only skew of the process's
# clock) must end, job keeper included: left running, it fills its log, and a supervisor that retries piles them up.
Describe 'A worker that cannot join' {
    BeforeAll {
        $skewedHome = New-GoqTestHome
        Start-GoqServer -Home $skewedHome | Out-Null
        $pwsh = Join-Path $PSHOME 'pwsh'
        $manifest = Join-Path $RepoRoot 'module/Goq.psd1'
        # Runs a cmdlet in a pwsh whose clock, and that of every process it starts, is 10 minutes ahead; prints the
        # error id it fails with. Its output goes to a file, so the pwsh can be waited for with a deadline.
        function Start-SkewedPwsh([string] $Command) {
            $out = Join-Path $skewedHome "skewed-$([guid]::NewGuid().ToString('N').Substring(0, 8)).out"
            $script = "Import-Module '$manifest'; try { $Command -ErrorAction Stop | Out-Null; 'no error' } catch { `$_.FullyQualifiedErrorId }"
            $env:GOQ_FAULT = 'clock-ahead:600'
            try {
                $process = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $script -RedirectStandardOutput $out -PassThru
            } finally { $env:GOQ_FAULT = $null }
            [pscustomobject]@{ Process = $process; Output = $out }
        }
        # The worker's relay and keeper are pwsh processes whose command line runs Start-GoqWorker on this home.
        function Get-WorkerProcess { @(Get-GoqHomeProcess $skewedHome, 'Start-GoqWorker -Home') }
    }
    AfterAll { Remove-GoqTestHome $skewedHome }

    It 'says GoqClockSkew to Start-GoqWorker and leaves no relay or keeper behind' {
        $run = Start-SkewedPwsh "Start-GoqWorker -Home '$skewedHome' -Slots 1"
        Wait-Until { $run.Process.HasExited } -TimeoutSec 90 -Because 'Start-GoqWorker to return'
        (Get-Content $run.Output) | Should -BeLike 'GoqClockSkew,*'
        Wait-Until { (Get-WorkerProcess).Count -eq 0 } -TimeoutSec 30 -Because 'the refused worker''s relay and keeper to exit'
        @(Get-GoqWorker -Home $skewedHome).Count | Should -Be 0
    }

    It 'ends a worker started in the foreground (as a supervisor does) with GoqClockSkew, keeper included' {
        $run = Start-SkewedPwsh "Start-GoqWorker -Home '$skewedHome' -Slots 1 -Wait"
        try {
            Wait-Until { $run.Process.HasExited } -TimeoutSec 90 -Because 'the refused worker to exit by itself'
        } finally { if (-not $run.Process.HasExited) { $run.Process.Kill($true) } }
        (Get-Content $run.Output) | Should -BeLike 'GoqClockSkew,*'
        Wait-Until { (Get-WorkerProcess).Count -eq 0 } -TimeoutSec 30 -Because 'the refused worker''s keeper to exit'
    }
}
