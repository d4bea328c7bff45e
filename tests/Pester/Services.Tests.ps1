BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Stopping on SIGTERM, as systemd and docker stop a service' {
    BeforeEach {
        $goqHome = Enter-GoqTestHome
    }
    AfterEach {
        Exit-GoqTestHome $goqHome
    }

    It 'has a worker finish its running job, take no more and leave, with its keeper' {
        $worker = Start-GoqWorker -Slots 1
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'

        & kill -s TERM $worker.Pid
        $next = Submit-GoqJob 'echo after the stop'
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) -and -not (Test-ProcessAlive $keeper) } -Because 'the worker and its keeper to exit'
        Wait-Until { (Get-GoqWorker).Id -notcontains $worker.Id } -Because 'the worker to leave the server'
        (Get-GoqJob $next.Id).State | Should -Be 'Waiting' -Because 'a stopping worker takes no new job, and gives back one it was handed'
        $log = Get-ChildItem (Join-Path $goqHome '.goq') -Filter "worker.$($worker.Id.Substring(0, 8)).log"
        Get-Content $log.FullName | Where-Object { $_ -like '*SIGTERM: stopping cleanly' } | Should -Not -BeNullOrEmpty -Because 'the relay stopped on the signal, not killed by it'
    }

    It 'has a worker without a keeper finish its running job and leave' {
        $worker = Start-GoqWorker -Slots 1 -NoJobKeeper
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'

        & kill -s TERM $worker.Pid
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'the worker to exit'
        Wait-Until { (Get-GoqWorker).Id -notcontains $worker.Id } -Because 'the worker to leave the server'
    }

    It 'has the server commit and close, keeping its waiting jobs for the next start' {
        $held = Submit-GoqJob 'echo later' -Hold
        $serverPid = (Get-GoqServer).ServerPid
        & kill -s TERM $serverPid
        Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the server to exit'
        Test-Path (Join-Path $goqHome '.goq/server.pid') | Should -BeFalse -Because 'a clean stop removes its pid file'
        Get-Content (Join-Path $goqHome '.goq/server.log') | Where-Object { $_ -like '*SIGTERM: stopping cleanly' } | Should -Not -BeNullOrEmpty

        Start-GoqServer | Out-Null
        (Get-GoqJob $held.Id).State | Should -Be 'Held'
    }
}
