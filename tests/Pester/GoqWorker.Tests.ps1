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
        $workers = @(Start-GoqWorker -Slots 4; Start-GoqWorker -Slots 6 -Force)
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
        # Its output says what happened to the run: its worker stopped (not a Stop-GoqJob), and it is queued again.
        Wait-Until { "$(Receive-GoqJob $job.Id -ErrorAction Continue 2>&1)" -like '*goq: *' } -Because 'the killed run''s last line to be stored'
        $said = @(Receive-GoqJob $job.Id -ErrorAction Continue 2>&1 | ForEach-Object { "$_" })
        $said | Should -Be @('goq: its worker stopped, and the job is queued again; its process tree was killed')
        Stop-GoqJob $job.Id
    }

    It 'stops waiting for a draining worker on Ctrl+C; the worker still drains' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 300'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Stop-GoqWorker -Home '$goqHome' -Id $($worker.Id) -Drain")
            $null = $ps.BeginInvoke()
            Wait-Until { Get-GoqLogEntry $goqHome -Worker -Event worker.shutdown_requested | Where-Object workerId -EQ $worker.Id } -Because 'the worker to be told to drain'
            Stop-PowerShellWithin $ps | Should -BeTrue -Because 'Ctrl+C ends the wait for a worker whose job runs for minutes'
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
        (Get-GoqJob $job.Id).State | Should -Be 'Running' -Because 'Ctrl+C stops the waiting, not the drain'
        Stop-GoqJob $job.Id
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'the drained worker to exit'
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

Describe 'Start-GoqWorker refuses a second worker with the same queues and labels' {
    It 'refuses it with GoqWorkerAlreadyRunning naming the running worker; -Force, another -Queue or other -Label start one' {
        $first = Start-GoqWorker -Slots 1 -Label gpu, bigmem
        try {
            $err = { Start-GoqWorker -Slots 2 -Label bigmem, gpu } | Should -Throw -ErrorId 'GoqWorkerAlreadyRunning,*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            $err.Exception.Message | Should -BeLike "*$($first.Id) (pid $($first.Pid), 1 slot)*-Slots*-Force*"
            $err.ErrorDetails.RecommendedAction | Should -BeLike '*-Slots*-Force*'
            @(Get-GoqWorker).Count | Should -Be 1 -Because 'nothing was started'

            $more = @(
                Start-GoqWorker -Slots 1 -Label gpu, bigmem -Force
                Start-GoqWorker -Slots 1 -Label gpu, bigmem -Queue other
                Start-GoqWorker -Slots 1 -Label gpu
            )
            $more | Should -HaveCount 3
            (Get-GoqWorker).Id | Sort-Object | Should -Be ((@($first) + $more).Id | Sort-Object)
        } finally {
            Get-GoqWorker | Stop-GoqWorker -Force
        }
    }
}

Describe 'Stop-GoqWorker -Local and Stop-GoqServer -IncludeWorkers' {
    BeforeAll {
        # Every process below the given ones (by the parent pids in /proc).
        function Get-Descendant([int[]] $Roots) {
            $parents = @{}
            foreach ($stat in Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$') {
                try { $text = [IO.File]::ReadAllText("$($stat.FullName)/stat") } catch { continue }
                $parents[[int]$stat.Name] = [int]($text.Substring($text.LastIndexOf(')') + 2).Split(' ')[1])
            }
            $found = [Collections.Generic.HashSet[int]]::new()
            do {
                $added = 0
                foreach ($entry in $parents.GetEnumerator()) {
                    if (($Roots -contains $entry.Value -or $found.Contains($entry.Value)) -and $found.Add($entry.Key)) { $added++ }
                }
            } while ($added -gt 0)
            @($found)
        }
    }
    AfterAll {
        try { Get-GoqServer | Out-Null } catch { Start-GoqServer | Out-Null } # a failed test may have left it stopped
    }

    It 'stops the workers of this home on this host after the server has gone: no worker, keeper, runner or job is left; another home''s worker runs on' {
        $otherHome = New-GoqTestHome
        try {
            Start-GoqServer -Home $otherHome | Out-Null
            $other = Start-GoqWorker -Home $otherHome -Slots 1

            $kept = Start-GoqWorker -Slots 2
            $plain = Start-GoqWorker -Slots 1 -NoJobKeeper -Queue q2
            (Submit-GoqJob -ScriptBlock { 'warm' } | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed' # a script runner stays
            (Submit-GoqJob -Queue q2 -ScriptBlock { 'warm' } | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed'
            $jobs = @(Submit-GoqJob 'sleep 300'; Submit-GoqJob -Queue q2 'sleep 300')
            Wait-Until { -not ($jobs | Where-Object { -not (Get-GoqJob $_.Id).Pid }) } -TimeoutSec 60 -Because 'both jobs to start'
            $keeper = Get-GoqKeeperPid $goqHome $kept.Id
            $processes = @($kept.Pid, $keeper, $plain.Pid) + @(Get-Descendant $kept.Pid, $keeper, $plain.Pid) + @($jobs | ForEach-Object { (Get-GoqJob $_.Id).Pid }) | Sort-Object -Unique
            $processes.Count | Should -BeGreaterOrEqual 7 -Because 'worker, keeper, plain worker, two runners and two jobs'

            Stop-GoqServer -Confirm:$false
            { Stop-GoqWorker -Id $kept.Id -Force } | Should -Throw -ErrorId 'GoqServerNotRunning,*'

            Stop-GoqWorker -Local -WhatIf
            $processes | Where-Object { Test-ProcessAlive $_ } | Should -HaveCount $processes.Count -Because '-WhatIf stops nothing'

            $stopped = Stop-GoqWorker -Local -Force -PassThru
            $stopped.Id | Sort-Object | Should -Be (@($kept.Id, $plain.Id) | Sort-Object)
            Wait-Until { -not ($processes | Where-Object { Test-ProcessAlive $_ }) } -TimeoutSec 10 -Because 'every process of the workers to be gone'
            Test-ProcessAlive $other.Pid | Should -BeTrue -Because 'another home''s worker is not touched'
            Stop-GoqWorker -Local -PassThru | Should -BeNullOrEmpty -Because 'none is left'

            Start-GoqServer | Out-Null
            Wait-Until { ($jobs | ForEach-Object { (Get-GoqJob $_.Id).State }) -notcontains 'Running' } -TimeoutSec 60 -Because 'the server to see the jobs were left'
            $jobs | ForEach-Object { Stop-GoqJob $_.Id }
        } finally {
            Remove-GoqTestHome $otherHome
        }
    }

    It 'lets a busy worker finish its job with -Local -Drain' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        Stop-GoqWorker -Local -Drain
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'its exit to be reaped by this test process, its parent'
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
    }

    It 'Stop-GoqServer -IncludeWorkers stops the workers it knows of first, then the server' {
        $workers = @(Start-GoqWorker -Slots 1; Start-GoqWorker -Slots 1 -NoJobKeeper -Queue q2)
        $keeper = Get-GoqKeeperPid $goqHome $workers[0].Id
        $server = Get-GoqServer

        Stop-GoqServer -IncludeWorkers -WhatIf
        @(Get-GoqWorker).Count | Should -Be 2 -Because '-WhatIf stops nothing'

        Stop-GoqServer -IncludeWorkers -Confirm:$false
        $workers.Pid + $keeper + $server.ServerPid | Where-Object { Test-ProcessAlive $_ } | Should -BeNullOrEmpty
        Stop-GoqWorker -Local -PassThru | Should -BeNullOrEmpty -Because 'no worker was left without its server'
        Start-GoqServer | Out-Null
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
