# A job ends when its main process ends, and every process it started ends with it, wherever it moved.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1' # what ended jobs left behind is swept with each heartbeat
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 2

    # The processes of this host that carry the job's id (and this worker's) in their environment: what the job
    # started, at any depth; another home's job of the same id is not counted.
    function Get-JobProcess([long] $Id) {
        foreach ($dir in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -Match '^\d+$') {
            try { $environ = [IO.File]::ReadAllText("/proc/$($dir.Name)/environ") -split "`0" } catch { continue }
            if ($environ -contains "GOQ_JOB_ID=$Id" -and $environ -contains "GOQ_WORKER_ID=$($worker.Id)") { [int]$dir.Name }
        }
    }
}
AfterAll { Exit-GoqTestHome $goqHome; $env:GOQ_HEARTBEAT_SEC = $null }

Describe 'The end of a job' {
    It 'comes with its main process while a detached child holds its output, keeps what it wrote, and ends the child' {
        # It stayed Running for the child's 300 s: its output never reached end of file.
        $job = Submit-GoqJob 'setsid sleep 300 & echo spawned; exit 0'
        $done = Wait-GoqJob $job.Id -Timeout 60
        $done.State | Should -Be 'Completed'
        Receive-GoqJob $job.Id -ErrorAction Continue 2>&1 | ForEach-Object { "$_" } | Should -Contain 'spawned'
        Wait-Until { -not (Get-JobProcess $job.Id) } -TimeoutSec 10 -Because 'the detached child to be ended with the job'
    }

    It 'ends every process at the time-out and at a cancel, also those that left the job''s group and session, and frees the slot' {
        $timed = Submit-GoqJob 'setsid nohup sleep 600 & sleep 600' -TimeoutSec 3
        $cancelled = Submit-GoqJob 'setsid nohup sleep 600 & sleep 600'
        Wait-Until { @(Get-JobProcess $cancelled.Id).Count -ge 2 } -Because 'the job and its escaped child to run'
        Stop-GoqJob $cancelled.Id | Out-Null

        (Wait-GoqJob $timed.Id -Timeout 60).State | Should -Be 'Failed'
        (Wait-GoqJob $cancelled.Id -Timeout 60).State | Should -Be 'Cancelled'
        Wait-Until { -not (Get-JobProcess $timed.Id) -and -not (Get-JobProcess $cancelled.Id) } -TimeoutSec 10 -Because 'no process of either job to be left'
        (Submit-GoqJob 'echo next' | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed' -Because 'their slots are free'
    }

    It 'ends a daemon the job left behind with its standard streams closed, when the job ends on its own' {
        $pidFile = Join-Path $goqHome "daemon-$([guid]::NewGuid().ToString('N')).pid"
        $job = Submit-GoqJob "setsid nohup sleep 600 </dev/null >/dev/null 2>&1 & echo `$! > '$pidFile'"
        (Wait-GoqJob $job.Id -Timeout 60).State | Should -Be 'Completed'
        $daemon = [int](Get-Content $pidFile)
        $daemon | Should -BeGreaterThan 0
        # It left the job's group and session and closed the job's output: the worker's sweep finds it by the job's id.
        Wait-Until { -not (Test-ProcessAlive $daemon) -and -not (Get-JobProcess $job.Id) } -TimeoutSec 10 -Because 'the daemon to be ended with the job'
    }
}
