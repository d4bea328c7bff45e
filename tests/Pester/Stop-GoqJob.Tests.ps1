BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 2
    Copy-Item (Join-Path $Fixtures 'forev.sh') $goqHome
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Stop-GoqJob' {
    It "kills a running job's whole process tree, keeps its output, and the worker survives" {
        $job = Submit-GoqJob 'echo before; ./forev.sh & ./forev.sh; echo never'
        Wait-Until { (Receive-GoqJob $job.Id) -contains 'before' } -Because 'the job to run'
        $jobPid = (Get-GoqJob $job.Id).Pid
        $tree = @(Get-Process | Where-Object { $_.CommandLine -like '*forev.sh*' })
        $tree.Count | Should -BeGreaterOrEqual 2

        $stopped = Stop-GoqJob $job.Id -PassThru
        $stopped.State | Should -Be 'Cancelled'
        (Wait-GoqJob $job.Id -Timeout 10).State | Should -Be 'Cancelled'
        # The server reports the cancel at once; the worker kills and reaps the tree just after.
        Wait-Until { -not (Get-Process | Where-Object { $_.CommandLine -like '*forev.sh*' }) -and -not (Test-ProcessAlive $jobPid) } -TimeoutSec 10 -Because 'every process of the job to be gone'
        Test-ProcessAlive $jobPid | Should -BeFalse
        Receive-GoqJob $job.Id -ErrorAction SilentlyContinue | Should -Contain 'before'
        (Get-GoqServer).CancelledJobs | Should -Be 1
        Test-ProcessAlive $worker.Pid | Should -BeTrue
        (Submit-GoqJob 'echo next' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed'
    }

    It 'cancels waiting jobs from the pipeline at once' {
        $blockers = 1..2 | ForEach-Object { Submit-GoqJob 'sleep 30' }
        $queued = 1..3 | ForEach-Object { Submit-GoqJob 'echo queued' }
        Wait-Until { (Get-GoqJob -State Running).Count -eq 2 } -Because 'both slots to be busy'
        $queued | Stop-GoqJob
        (Get-GoqJob -Id $queued.Id).State | Sort-Object -Unique | Should -Be 'Cancelled'
        Get-GoqJob -State Running | Stop-GoqJob
        (Get-GoqJob -Id $blockers.Id).State | Sort-Object -Unique | Should -Be 'Cancelled'
        (Get-GoqServer).CancelledJobs | Should -Be 6
    }

    It 'reports an unknown id as ObjectNotFound, and leaves a finished job alone with a warning' {
        $done = Submit-GoqJob 'exit 0' | Wait-GoqJob -Timeout 30
        $errs = $null; $warns = $null
        Stop-GoqJob 999999, $done.Id -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warns -WarningAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $warns | Should -HaveCount 1
        (Get-GoqJob $done.Id).State | Should -Be 'Completed'
    }

    It 'does nothing under -WhatIf' {
        $job = Submit-GoqJob 'sleep 2'
        Stop-GoqJob $job.Id -WhatIf
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
    }
}

Describe 'Submit-GoqJob -TimeoutSec' {
    It 'kills a job that runs too long and fails it with a reason' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $job = Submit-GoqJob 'sleep 1000' -TimeoutSec 2 | Wait-GoqJob -Timeout 30
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $job.State | Should -Be 'Failed'
        $job.Reason | Should -BeLike 'timed out after 2 s*'
    }
}

Describe 'Remove-GoqJob' {
    It 'removes ended jobs by id and by state, never active ones' {
        $a = Submit-GoqJob 'exit 0' | Wait-GoqJob -Timeout 30
        $b = Submit-GoqJob 'exit 1' | Wait-GoqJob -Timeout 30
        $active = Submit-GoqJob 'sleep 20'
        Remove-GoqJob $a.Id
        Get-GoqJob $a.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs = $null
        Wait-GoqJob $a.Id -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobNotFound,*'

        Remove-GoqJob $active.Id -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobNotEnded,*'
        (Get-GoqJob $active.Id).State | Should -Not -BeNullOrEmpty

        Remove-GoqJob -State Failed -WhatIf
        (Get-GoqJob $b.Id).State | Should -Be 'Failed'
        Get-GoqJob -State Failed | Remove-GoqJob
        Get-GoqJob -State Failed | Should -BeNullOrEmpty
        Stop-GoqJob $active.Id
        Remove-GoqJob -State Cancelled
        Get-GoqJob $active.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
