# Retries, Restart-GoqJob, attempt history, accounting and Get-GoqJob's server-side filters, with real processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 2 -Queue default, filtered
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -RetryCount and -RetryDelaySec' {
    It 'runs a failing job again until it succeeds, keeping every attempt and its output' {
        $counter = Join-Path $goqHome 'runs'
        $job = Submit-GoqJob "n=`$(cat '$counter' 2>/dev/null || echo 0); n=`$((n+1)); echo `$n > '$counter'; echo run `$n; [ `$n -ge 3 ]" -RetryCount 3
        $done = $job | Wait-GoqJob -Timeout 60
        ($done.State, $done.Retries, $done.Attempts) | Should -Be @('Completed', 2, 3)
        $attempts = Get-GoqJob $job.Id -IncludeAttempts
        $attempts | Should -HaveCount 3
        $attempts.ExitCode | Should -Be @(1, 1, 0)
        $attempts.Attempt | Should -Be @(1, 2, 3)
        $attempts | ForEach-Object { $_.StartedAt | Should -Not -BeNullOrEmpty; $_.FinishedAt | Should -Not -BeNullOrEmpty }
        $attempts[0].PSObject.TypeNames[0] | Should -Be 'Goq.JobAttempt'
        Receive-GoqJob $job.Id | Should -Be @('run 1', 'run 2', 'run 3') -Because 'every attempt''s output stays readable'
    }

    It 'fails for good once its retries are spent, and waits -RetryDelaySec between attempts' {
        $job = Submit-GoqJob 'exit 7' -RetryCount 1 -RetryDelaySec 2
        Wait-Until { (Get-GoqJob $job.Id).Reason -like 'retry 1 of 1 after: exit code 7; not before *' } -Because 'the retry waits for its time'
        (Get-GoqJob $job.Id).State | Should -Be 'Waiting'
        $done = $job | Wait-GoqJob -Timeout 60
        ($done.State, $done.ExitCode, $done.Retries) | Should -Be @('Failed', 7, 1)
        $first, $second = Get-GoqJob $job.Id -IncludeAttempts
        ($second.StartedAt - $first.FinishedAt).TotalSeconds | Should -BeGreaterThan 1.5
    }
}

Describe 'Restart-GoqJob' {
    It 'runs an ended job again under its id, and with -IncludeDependents what broke on it' {
        $flag = Join-Path $goqHome 'mended'
        $head = Submit-GoqJob "test -e '$flag'"
        $mid = Submit-GoqJob 'echo mid' -DependsOn $head
        $tail = Submit-GoqJob 'echo tail' -DependsOn $mid
        $null = $head, $mid, $tail | Wait-GoqJob -Timeout 60
        (Get-GoqJob $head.Id, $mid.Id, $tail.Id).State | Should -Be @('Failed', 'DependencyFailed', 'DependencyFailed')

        New-Item -ItemType File $flag | Out-Null
        Restart-GoqJob $head.Id -WhatIf
        (Get-GoqJob $head.Id).State | Should -Be 'Failed' -Because '-WhatIf restarts nothing'
        $restarted = Get-GoqJob -State Failed | Where-Object Id -EQ $head.Id | Restart-GoqJob -IncludeDependents -PassThru
        $restarted.Id | Should -Be @($head.Id, $mid.Id, $tail.Id)
        $done = $head, $mid, $tail | Wait-GoqJob -Timeout 60
        $done.State | Should -Be @('Completed', 'Completed', 'Completed')
        (Get-GoqJob $head.Id).Attempts | Should -Be 2
        (Get-GoqJob $head.Id -IncludeAttempts).State | Should -Be @('Failed', 'Completed')
        Receive-GoqJob $tail.Id | Should -Be 'tail'
    }

    It 'refuses a job that has not ended, with GoqJobNotEnded' {
        $flag = Join-Path $goqHome 'release-restart'
        $job = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done"
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'it runs'
        $err = $null
        Restart-GoqJob $job.Id -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqJobNotEnded,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        New-Item -ItemType File $flag | Out-Null
        ($job | Wait-GoqJob -Timeout 60).Attempts | Should -Be 1
    }
}

Describe 'Accounting' {
    It 'records the CPU time and peak memory of a command job from its rusage' {
        $job = Submit-GoqJob 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null'
        $done = $job | Wait-GoqJob -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.CpuTime.TotalSeconds | Should -BeGreaterThan 0.05
        $done.CpuTime | Should -Be ($done.UserCpuTime + $done.SystemCpuTime)
        $done.MaxMemoryBytes | Should -BeGreaterThan 60MB -Because 'dd held a 64 MiB buffer'
        $done.MaxMemoryBytes | Should -BeLessThan 1GB
        ($done | Format-List | Out-String) | Should -Match 'MaxMemory\s*:\s*\d'
    }

    It 'records a small program''s own peak memory, not its worker''s' {
        $done = @(Submit-GoqJob 'true'; Submit-GoqJob /bin/true -ArgumentList @('x')) | Wait-GoqJob -Timeout 60 # a command line and a program
        $done.State | Should -Be @('Completed', 'Completed')
        $done | ForEach-Object { $_.MaxMemoryBytes | Should -BeLessThan 20MB -Because 'the worker''s own 100-200 MB are not the job''s' }
    }

    It 'records a script-block job''s CPU time and its runner''s peak memory' {
        $done = Submit-GoqJob { $x = [byte[]]::new(200MB); [Array]::Fill($x, [byte]1); $x.Length } | Wait-GoqJob -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.CpuTime.TotalMilliseconds | Should -BeGreaterThan 0
        $done.MaxMemoryBytes | Should -BeGreaterThan 200MB
    }
}

Describe 'Get-GoqJob -Since, -Until, -SubmittedBy and -Queue' {
    It 'filters in the server' {
        $mine = Submit-GoqJob 'true' -Queue filtered | Wait-GoqJob -Timeout 60
        # no worker serves 'filtered-idle': this one waits
        $waiting = Submit-GoqJob 'true' -Queue filtered-idle
        (Get-GoqJob -Queue filtered).Id | Should -Be @($mine.Id)
        (Get-GoqJob -Queue filtered, filtered-idle).Id | Should -Be @($mine.Id, $waiting.Id)
        $user = $mine.SubmittedBy.Split('@')[0]
        (Get-GoqJob -Queue filtered -SubmittedBy $user).Id | Should -Be @($mine.Id)
        (Get-GoqJob -Queue filtered -SubmittedBy $mine.SubmittedBy.ToUpper()).Id | Should -Be @($mine.Id)
        Get-GoqJob -Queue filtered -SubmittedBy 'nobody-else' | Should -BeNullOrEmpty
        (Get-GoqJob -Queue filtered, filtered-idle -Since ([datetime]::Now.AddMinutes(1))).Id | Should -Be @($waiting.Id) -Because 'only a job not ended is still in the queue then'
        Get-GoqJob -Queue filtered -Until $mine.SubmittedAt.LocalDateTime.AddSeconds(-1) | Should -BeNullOrEmpty
        (Get-GoqJob -Queue filtered -Until $mine.SubmittedAt.LocalDateTime.AddSeconds(1)).Id | Should -Be @($mine.Id)
        Stop-GoqJob $waiting.Id
    }
}
