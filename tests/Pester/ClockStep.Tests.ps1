# A step of the server's wall clock (NTP, a VM resume) declares no healthy worker dead and runs nothing twice
# (issue 26.1): every duration runs on the monotonic clock. The server's wall clock is stepped through the test-only
# GOQ_FAULT_CLOCK_FILE (libfaketime breaks .NET's timed waits: under it Start-Sleep returns at once after a step).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1'
    $env:GOQ_DEAD_WORKER_SEC = '5'
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null; $env:GOQ_DEAD_WORKER_SEC = $null; $env:GOQ_FAULT_CLOCK_FILE = $null }

Describe 'A step of the server''s wall clock' {
    BeforeEach {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        Push-Location $goqHome
        $clock = Join-Path $goqHome 'clock-offset'
        Set-Content $clock '0'
        $env:GOQ_FAULT_CLOCK_FILE = $clock # the server's alone: it is unset before the workers start
        Start-GoqServer | Out-Null
        $env:GOQ_FAULT_CLOCK_FILE = $null
    }
    AfterEach { Exit-GoqTestHome $goqHome }

    It 'a minute ahead declares no worker dead: the running jobs run once and the workers stay' {
        $workers = 1..2 | ForEach-Object { Start-GoqWorker -Slots 1 -Force }
        $jobs = 1..2 | ForEach-Object { Submit-GoqJob "while [ ! -f '$goqHome/go' ]; do sleep 0.1; done; echo ran-$_ >> '$goqHome/ran.txt'" }
        Wait-Until { @(Get-GoqJob $jobs.Id | Where-Object Pid).Count -eq 2 } -Because 'both jobs to start'

        $before = [DateTimeOffset]::UtcNow
        Set-Content $clock '60'
        Wait-Until { @(Get-GoqWorker | Where-Object { $_.LastSeen -gt $before.AddSeconds(55) }).Count -eq 2 } -Because 'both workers to be heard from after the step'
        $stepped = (Get-GoqWorker | Measure-Object -Property LastSeen -Minimum).Minimum
        # Three more heartbeats of each, on the stepped clock: the server's sweep has run several times since the step.
        Wait-Until { @(Get-GoqWorker | Where-Object { $_.LastSeen -gt $stepped.AddSeconds(3) }).Count -eq 2 } -Because 'more heartbeats after the step'

        (Get-GoqServer).DeadWorkerResubmits | Should -Be 0 -Because 'no worker was declared dead'
        @(Get-GoqLogEntry $goqHome -Event 'worker.connected').Count | Should -Be 2 -Because 'no worker had to connect again'
        (Get-GoqWorker).Id | Sort-Object | Should -Be ($workers.Id | Sort-Object)

        New-Item -ItemType File "$goqHome/go" | Out-Null
        $done = Wait-GoqJob $jobs.Id -Timeout 60
        $done.State | Should -Be @('Completed', 'Completed')
        $done.Attempts | Should -Be @(1, 1) -Because 'no job ran twice'
        @(Get-Content "$goqHome/ran.txt").Count | Should -Be 2
    }
}
