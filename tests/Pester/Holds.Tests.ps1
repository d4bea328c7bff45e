# Holding jobs back: Submit-GoqJob -Hold and -NotBefore, Suspend-GoqJob and Resume-GoqJob, Suspend-Job and Resume-Job.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    # Nothing held ahead: a job a worker holds ahead of a free slot is leased to it (Running), and only a job that has
    # not been handed out can be held.
    $null = Start-GoqWorker -Slots 2 -Prefetch 0
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Held jobs' {
    It 'keeps a job submitted with -Hold until Resume-GoqJob releases it' {
        $held = Submit-GoqJob 'echo released' -Hold
        $held.State | Should -Be 'Held'
        $held.Reason | Should -Be 'held: Resume-GoqJob releases it'
        (Get-GoqServer).HeldJobs | Should -Be 1
        (Submit-GoqJob 'true' | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed' # the worker is free, yet:
        (Get-GoqJob $held.Id).State | Should -Be 'Held'

        Resume-GoqJob $held.Id -PassThru | Select-Object -ExpandProperty State | Should -BeIn @('Waiting', 'Running')
        (Wait-GoqJob $held.Id -Timeout 60 | Receive-GoqJob) | Should -Be 'released'
    }

    It 'holds a waiting job with Suspend-GoqJob, and refuses one that runs' {
        $flag = Join-Path $goqHome 'suspend-go'
        $busy = 1..2 | ForEach-Object { Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done" }
        Wait-Until { @(Get-GoqJob $busy.Id | Where-Object Pid).Count -eq 2 } -Because 'both slots to be busy'
        $waiting = Submit-GoqJob 'echo later'
        Suspend-GoqJob $waiting.Id
        (Get-GoqJob $waiting.Id).State | Should -Be 'Held'
        $err = $null
        Suspend-GoqJob $busy[0].Id -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobStarted,*'
        Suspend-GoqJob $waiting.Id -WhatIf
        New-Item -ItemType File $flag | Out-Null
        $null = $busy | Wait-GoqJob -Timeout 60
        (Get-GoqJob $waiting.Id).State | Should -Be 'Held'
        Resume-GoqJob $waiting.Id
        (Wait-GoqJob $waiting.Id -Timeout 60).State | Should -Be 'Completed'
    }

    It 'does not start a job before its -NotBefore time' {
        $at = (Get-Date).AddSeconds(2)
        $job = Submit-GoqJob 'true' -NotBefore $at
        $job.State | Should -Be 'Waiting' # it starts by itself: not held
        $job.Reason | Should -BeLike 'not before *'
        $done = Wait-GoqJob $job.Id -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.StartedAt | Should -BeGreaterOrEqual ([DateTimeOffset]$at)
    }

    It 'maps suspending and resuming a GoqJob (Suspend-Job and Resume-Job, where pwsh has them) to holding and releasing it' {
        # Suspend-Job and Resume-Job exist in pwsh on Windows only; they call these methods, as here.
        $job = Submit-GoqJob 'echo resumed' -Hold -AsJob
        Wait-Until { $job.JobStateInfo.State -eq 'Suspended' } -Because 'a held job to show as Suspended'
        if (Get-Command Resume-Job -ErrorAction SilentlyContinue) { Resume-Job $job } else { $job.ResumeJob() }
        (Get-GoqJob $job.GoqId).State | Should -Not -Be 'Held'
        $job | Wait-Job -Timeout 60 | Receive-Job | Should -Be 'resumed'

        $flag = Join-Path $goqHome 'suspend-job-go'
        $first = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done"
        $other = Submit-GoqJob 'echo suspended' -DependsOn $first.Id -AsJob # blocked: not started
        $other.SuspendJob()
        (Get-GoqJob $other.GoqId).State | Should -Be 'Held'
        $other.ResumeJob()
        (Get-GoqJob $other.GoqId).State | Should -Be 'Blocked'
        New-Item -ItemType File $flag | Out-Null
        ($other | Wait-Job -Timeout 60).State | Should -Be 'Completed'

        $done = Submit-GoqJob 'true' -AsJob | Wait-Job -Timeout 60
        { $done.SuspendJob() } | Should -Throw '*only a job that has not started can be suspended*'
    }
}
