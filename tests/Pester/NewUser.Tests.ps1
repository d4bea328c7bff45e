# What a new user tripped over (issue 10, point 4), and ShouldProcess on every cmdlet that changes things.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $pwsh = Join-Path $PSHOME 'pwsh'
}

Describe 'Initialize-GoqHome -Force and Stop-GoqServer -Force' {
    BeforeEach { $goqHome = New-GoqTestHome }
    AfterEach { Remove-GoqTestHome $goqHome }

    It 'refuses to replace the keys of a home whose server runs, and keeps its port and host when it may' {
        $port = (Get-Content -Raw (Join-Path $goqHome '.goq/config.json') | ConvertFrom-Json).Port
        Start-GoqServer -Home $goqHome | Out-Null
        $secret = (Get-FileHash (Join-Path $goqHome '.goq/cluster.secret')).Hash
        { Initialize-GoqHome -Path $goqHome -Force -Confirm:$false } | Should -Throw -ErrorId 'GoqServerAlreadyRunning*'
        (Get-FileHash (Join-Path $goqHome '.goq/cluster.secret')).Hash | Should -Be $secret
        (Get-GoqServer -Home $goqHome).WaitingJobs | Should -Be 0 -Because 'the server is still reachable'

        Stop-GoqServer -Home $goqHome -Confirm:$false
        $info = Initialize-GoqHome -Path $goqHome -Force -Confirm:$false
        $info.Endpoint | Should -Be "tcp://127.0.0.1:$port" -Because 'the port and host were not given, so they are kept'
        (Get-FileHash (Join-Path $goqHome '.goq/cluster.secret')).Hash | Should -Not -Be $secret
    }

    It 'kills a server that does not answer with Stop-GoqServer -Force, by its recorded pid, and says so' {
        $server = Start-GoqServer -Home $goqHome
        & /bin/kill -STOP $server.Pid # alive, listening, silent
        try {
            $env:GOQ_CONNECT_TIMEOUT_SEC = '1'
            Stop-GoqServer -Home $goqHome -Force -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        }
        finally { $env:GOQ_CONNECT_TIMEOUT_SEC = $null }
        Test-ProcessAlive $server.Pid | Should -BeFalse
        "$warned" | Should -BeLike "*did not answer*process $($server.Pid) was killed*"
    }
}

Describe 'Objects that are not what a cmdlet takes' {
    BeforeAll { $goqHome = Enter-GoqTestHome; $null = Start-GoqWorker -Slots 1 }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'refuses a JobInfo piped into Submit-GoqJob instead of running its string form' {
        $job = Submit-GoqJob 'true'
        $next = (Get-GoqServer).NextJobId
        $job | Submit-GoqJob -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        "$err" | Should -BeLike '*Goq.JobInfo is not a command line*'
        (Get-GoqServer).NextJobId | Should -Be $next
    }

    It 'refuses another kind of job object in the job cmdlets, and takes Goq jobs and ids' {
        $goq = Submit-GoqJob 'echo mine' | Wait-GoqJob -Timeout 30
        $other = Start-Job { 1 }
        try {
            foreach ($command in 'Receive-GoqJob', 'Get-GoqJob', 'Wait-GoqJob', 'Stop-GoqJob', 'Remove-GoqJob') {
                $other | & $command -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because $command
                "$err" | Should -BeLike '*is not a Goq job*' -Because $command
            }
        }
        finally { $other | Remove-Job -Force }
        $goq | Receive-GoqJob | Should -Be 'mine'
        "$($goq.Id)" | Receive-GoqJob | Should -Be 'mine'
        Get-GoqJob -Id $goq | Select-Object -ExpandProperty Id | Should -Be $goq.Id
    }
}

Describe 'Views' {
    It 'shows days in Duration, local times in the list view, and ArgumentList as a string array' {
        $job = [Goq.JobInfo]::new()
        $job.Id = 9; $job.State = 'Completed'; $job.Command = 'sleep'; $job.ArgumentList = 'a b', 'c'
        $job.StartedAt = [DateTimeOffset]::new(2026, 1, 1, 0, 0, 0, [TimeSpan]::Zero)
        $job.FinishedAt = $job.StartedAt.AddHours(25)
        ($job | Format-Table | Out-String) | Should -Match '1\.01:00:00'
        ($job | Format-Table | Out-String -Width 80) | Should -Match "sleep 'a b' c"
        ($job | Format-List | Out-String) | Should -Match ([regex]::Escape($job.StartedAt.ToLocalTime().ToString()))
        $job.ArgumentList.GetType() | Should -Be ([string[]])
    }

    It 'shows why a job that has not started waits under its command, and nothing for one that runs' {
        $job = [Goq.JobInfo]::new()
        $job.Id = 7; $job.State = 'Blocked'; $job.Command = 'make all'; $job.Reason = 'waiting for job 6'
        foreach ($width in 80, 120) {
            $lines = ($job | Format-Table | Out-String -Width $width) -split "`n" | ForEach-Object TrimEnd
            $at = [array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l -match 'make all$' })
            # The reason is the command column's next line; at 80 columns that column is narrow and may wrap it.
            $reason = (@($lines[($at + 1)..($lines.Count - 1)] | ForEach-Object Trim) -join ' ').Trim()
            $reason | Should -BeLike '(waiting for job 6)*' -Because "at $width columns"
            ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual $width
        }
        $job.State = 'Running'
        ($job | Format-Table | Out-String -Width 120) | Should -Not -Match 'waiting for job 6'
    }

    It 'keeps a long command readable at 80 columns' {
        $job = [Goq.JobInfo]::new()
        $job.Id = 12345; $job.Name = 'nightly'; $job.State = 'Running'; $job.Command = './run-the-nightly-simulation.sh --grid 512 --steps 10000'
        $text = $job | Format-Table | Out-String -Width 80
        ($text -replace '\s+', ' ') | Should -Match 'run-the-nightly' -Because 'the command wraps rather than being cut to nothing'
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
    }

    It 'shows every worker column whole at 80 columns, with a short id as the job table does' {
        $worker = [Goq.WorkerInfo]::new()
        $worker.Id = '0123456789abcdef0123456789abcdef'; $worker.Host = 'node07'; $worker.Pid = 123456; $worker.Slots = 32
        $worker.BusySlots = 30; $worker.Prefetch = 64; $worker.PrefetchedJobs = 12; $worker.Queues = 'default', 'gpu'
        $worker.Labels = 'gpu'; $worker.LastSeen = [DateTimeOffset]::Now
        foreach ($width in 80, 120) {
            $lines = @(($worker | Format-Table | Out-String -Width $width) -split "`r?`n" | Where-Object { $_.Trim() })
            $lines.Count | Should -Be 3 -Because "at $width columns the header, its rule and the row each take one line:`n$($lines -join "`n")"
            $lines[0] | Should -Match '^Id\s+Host\s+Pid\s+Slots\s+Busy\s+Ahead\s+Queues\s+Labels\s+LastSeen$'
            $lines[2] | Should -Match '^01234567 +node07 +123456 +32 +30 +12/64 +default,gpu +gpu +\d\d:\d\d:\d\d$'
        }
        $worker.Id | Should -Be '0123456789abcdef0123456789abcdef' -Because 'the object keeps the full id'
    }

    It 'keeps a job name such as waiting-gpu on one line at 80 and 120 columns' {
        $job = [Goq.JobInfo]::new()
        $job.Id = 7; $job.Name = 'waiting-gpu'; $job.State = 'Waiting'; $job.Command = 'sleep 1'
        foreach ($width in 80, 120) {
            $lines = @(($job | Format-Table | Out-String -Width $width) -split "`r?`n" | Where-Object { $_.Trim() })
            $lines.Count | Should -Be 3 -Because "at $width columns the row takes one line:`n$($lines -join "`n")"
            $lines[2] | Should -Match '^\s+7 waiting-gpu\s+Waiting\s'
        }
    }
}

Describe 'A job submitted with no worker started (issue 25, point 9)' {
    BeforeAll { $goqHome = Enter-GoqTestHome }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'says in its Reason, and under its command in the table, that no worker is connected; a worker then runs it' {
        $job = Submit-GoqJob 'echo ran'
        $waiting = Get-GoqJob $job.Id
        $waiting.State | Should -Be 'Waiting'
        $waiting.Reason | Should -BeLike 'no worker is connected*Start-GoqWorker starts one'
        $table = $waiting | Format-Table | Out-String -Width 120
        $table | Should -Match 'Command \(Reason\)'
        $table | Should -Match '\(no worker is connected'
        ($table -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 120

        $null = Start-GoqWorker -Slots 1
        ($job | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed'
        (Get-GoqJob $job.Id).Reason | Should -BeNullOrEmpty
    }
}

Describe 'Stop-GoqWorker and Remove-GoqJob -Force' {
    BeforeAll { $goqHome = Enter-GoqTestHome }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'takes a unique prefix or host/prefix, and returns once the worker has exited' {
        $worker = Start-GoqWorker -Slots 1
        Stop-GoqWorker -Id $worker.Id.Substring(0, 6)
        Test-ProcessAlive $worker.Pid | Should -BeFalse -Because 'it returns after the exit'
        $second = Start-GoqWorker -Slots 1
        Stop-GoqWorker -Id "$([Environment]::MachineName)/$($second.Id.Substring(0, 8))"
        Test-ProcessAlive $second.Pid | Should -BeFalse
        Stop-GoqWorker -Id 'ffffffff' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GoqWorkerNotFound*'
    }

    It 'asks before killing running jobs, and with -Drain lets them finish' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 6; echo drained'
        Wait-Until { (Get-GoqWorker).BusySlots -eq 1 } -Because 'the job to start'
        # A non-interactive session cannot answer the question: nothing is stopped.
        & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$RepoRoot/module/Goq.psd1'; Stop-GoqWorker -Home '$goqHome' -Id $($worker.Id)" 2>&1 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
        Test-ProcessAlive $worker.Pid | Should -BeTrue
        (Get-GoqJob $job.Id).State | Should -Be 'Running'
        Stop-GoqWorker -Id $worker.Id -Drain
        Test-ProcessAlive $worker.Pid | Should -BeFalse
        (Get-GoqJob $job.Id).State | Should -Be 'Completed'
    }

    It 'removes a running job with -Force after cancelling it, and refuses without' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'sleep 60'
        Wait-Until { (Get-GoqJob $job.Id).State -eq 'Running' } -Because 'the job to start'
        Remove-GoqJob $job.Id -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobNotEnded*'
        Remove-GoqJob $job.Id -Force
        Get-GoqJob $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Wait-Until { (Get-GoqWorker | Measure-Object -Property BusySlots -Sum).Sum -eq 0 } -Because "the job to be killed ($(Get-GoqWorker | Out-String))"
        Stop-GoqWorker -Id $worker.Id
    }
}

Describe 'ShouldProcess' {
    BeforeAll { $goqHome = Enter-GoqTestHome }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'declares the impact of each cmdlet that changes things' {
        $impact = @{ 'Stop-GoqServer' = 'High'; 'Initialize-GoqHome' = 'High'; 'Stop-GoqJob' = 'Medium'; 'Remove-GoqJob' = 'Medium'; 'Stop-GoqWorker' = 'Medium' }
        foreach ($name in $impact.Keys) {
            [System.Management.Automation.CommandMetadata]::new((Get-Command $name)).ConfirmImpact | Should -Be $impact[$name] -Because $name
        }
    }

    It 'changes nothing with -WhatIf' {
        $worker = Start-GoqWorker -Slots 2
        $running = Submit-GoqJob 'sleep 30'
        $ended = Submit-GoqJob 'true' | Wait-GoqJob -Timeout 30
        Wait-Until { (Get-GoqJob $running.Id).State -eq 'Running' } -Because 'the job to start'
        $secret = (Get-FileHash (Join-Path $goqHome '.goq/cluster.secret')).Hash

        Stop-GoqServer -WhatIf
        Initialize-GoqHome -Path $goqHome -Force -WhatIf
        Stop-GoqJob $running.Id -WhatIf
        Remove-GoqJob $ended.Id -WhatIf
        Stop-GoqWorker -Id $worker.Id -WhatIf
        Submit-GoqJob 'true' -WhatIf | Should -BeNullOrEmpty

        (Get-GoqServer).Workers | Should -Be 1
        (Get-GoqJob $running.Id).State | Should -Be 'Running'
        (Get-GoqJob $ended.Id).State | Should -Be 'Completed'
        (Get-FileHash (Join-Path $goqHome '.goq/cluster.secret')).Hash | Should -Be $secret
        Test-ProcessAlive $worker.Pid | Should -BeTrue
        Stop-GoqJob $running.Id | Out-Null
    }
}
