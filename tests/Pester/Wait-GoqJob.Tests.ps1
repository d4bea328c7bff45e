BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    Start-GoqWorker -Slots 4 | Out-Null # enough that the slow jobs of one test never hold up the next
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Wait-GoqJob' {
    It 'returns a finished job at once' {
        $job = Submit-GoqJob 'exit 0' | Wait-GoqJob -Timeout 30
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        (Wait-GoqJob $job.Id).State | Should -Be 'Completed'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3
    }

    It 'reports an unknown id promptly as ObjectNotFound, while it still waits for the others' {
        $slow = Submit-GoqJob 'sleep 3'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $seen = Wait-GoqJob -Id 999999, $slow.Id -ErrorAction Continue 2>&1 |
            ForEach-Object { [pscustomobject]@{ At = $watch.Elapsed.TotalSeconds; Item = $_ } }
        $seen | Should -HaveCount 2
        $err = $seen[0].Item
        $err | Should -BeOfType ([System.Management.Automation.ErrorRecord])
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqJobNotFound,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.TargetObject | Should -Be 999999
        $seen[0].At | Should -BeLessThan 2 # long before the other job ends
        $seen[1].Item.Id | Should -Be $slow.Id
        $seen[1].At | Should -BeGreaterThan 2
    }

    It 'gives an OperationTimeout error when -Timeout runs out' {
        $slow = Submit-GoqJob 'sleep 5'
        $errs = $null
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $out = Wait-GoqJob $slow.Id -Timeout 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 4
        $out | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqWaitTimeout,*'
        $errs[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }

    It 'returns with the first job to end under -Any' {
        $slow = Submit-GoqJob 'sleep 10'
        $fast = Submit-GoqJob 'exit 0'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $first = Wait-GoqJob $slow.Id, $fast.Id -Any
        $first.Id | Should -Be $fast.Id
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 8
    }

    It 'takes ids from the pipeline by property name' {
        $jobs = 'exit 0', 'exit 1' | Submit-GoqJob
        $done = $jobs | Wait-GoqJob -Timeout 30
        $done.State | Sort-Object | Should -Be @('Completed', 'Failed')
    }

    It 'stops waiting on Ctrl+C' {
        $slow = Submit-GoqJob 'sleep 20'
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Wait-GoqJob -Home '$goqHome' -Id $($slow.Id)")
        $async = $ps.BeginInvoke()
        try {
            Wait-Until { $ps.InvocationStateInfo.State -eq 'Running' } -Because 'the wait to start'
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally { $ps.Dispose() }
    }
}

Describe 'Receive-GoqJob' {
    It 'returns what has arrived while the job still runs' {
        $job = Submit-GoqJob 'echo first; sleep 3; echo second'
        Wait-Until { (Receive-GoqJob $job.Id) -contains 'first' } -TimeoutSec 10 -Because 'the first line to stream in'
        (Get-GoqJob $job.Id).State | Should -Be 'Running'
        Wait-GoqJob $job.Id -Timeout 30 | Out-Null
        Receive-GoqJob $job.Id | Should -Be @('first', 'second')
    }

    It 'reports an unknown id as ObjectNotFound and carries on with the next' {
        $job = Submit-GoqJob 'echo ok' | Wait-GoqJob -Timeout 30
        $errs = $null
        $out = Receive-GoqJob 999999, $job.Id -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -Be 'ok'
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqJobNotFound,*'
    }
}

Describe 'Get-GoqJob' {
    It 'lists jobs ordered by id, filtered by state and name wildcards' {
        $a = Submit-GoqJob 'exit 0' -Name 'alpha-1' | Wait-GoqJob -Timeout 30
        $b = Submit-GoqJob 'exit 2' -Name 'alpha-2' | Wait-GoqJob -Timeout 30
        $all = Get-GoqJob
        $all.Id | Should -Be ($all.Id | Sort-Object)
        (Get-GoqJob -Name 'alpha-*').Id | Should -Be @($a.Id, $b.Id)
        (Get-GoqJob -Name 'ALPHA-*' -State Failed).Id | Should -Be $b.Id
        (Get-GoqJob -Id $b.Id, $a.Id).Id | Should -Be @($a.Id, $b.Id)
        $job = Get-GoqJob -Id $a.Id
        $job.SubmittedAt | Should -BeLessOrEqual $job.StartedAt
        $job.StartedAt | Should -BeLessOrEqual $job.FinishedAt
        $job.Duration | Should -BeGreaterOrEqual ([TimeSpan]::Zero)
        $job.Attempts | Should -Be 1
        $job.SubmittedBy | Should -BeLike '*@*'
        $job.Worker | Should -Not -BeNullOrEmpty
    }

    It 'reports unknown ids as ObjectNotFound' {
        $errs = $null
        Get-GoqJob -Id 999999 -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'shows its progress (done of total) when it waits for several jobs for more than a moment, unless silenced' {
        $quick = Submit-GoqJob 'true'
        $slow = Submit-GoqJob 'sleep 1.5'
        foreach ($preference in 'Continue', 'SilentlyContinue') {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; `$ProgressPreference = '$preference'; Wait-GoqJob -Home '$goqHome' $($quick.Id), $($slow.Id) -Timeout 30 | Out-Null")
                $ps.Invoke()
                $progress = @($ps.Streams.Progress)
                if ($preference -eq 'Continue') {
                    $progress.StatusDescription | Should -Contain '1 of 2 ended'
                    $progress[-1].RecordType | Should -Be 'Completed'
                }
                else {
                    $progress | Should -BeNullOrEmpty
                }
            }
            finally { $ps.Dispose() }
            $slow = Submit-GoqJob 'sleep 1.5' # a fresh slow job for the second round
        }
    }

    It 'counts an array''s tasks in its progress when it waits for the array''s id' {
        $array = Submit-GoqJob 'sleep 1' -ArrayIndex (0..3) -ThrottleLimit 1 # one at a time: the wait lasts about 4 s
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Wait-GoqJob -Home '$goqHome' $($array.Id) -Timeout 60")
            $ended = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $ended | Should -HaveCount 4
            $progress = @($ps.Streams.Progress)
            # How many had ended when it first showed depends on the host's speed; the total is what counts.
            $progress | Should -Not -BeNullOrEmpty -Because 'the array''s id stands for its 4 tasks'
            $progress.StatusDescription | Where-Object { $_ -notmatch '^[0-4] of 4 ended$' } | Should -BeNullOrEmpty
            $progress[-1].StatusDescription | Should -Be '4 of 4 ended'
            $progress[-1].RecordType | Should -Be 'Completed'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Receive-GoqJob -Wait' {
    It 'follows a running job''s output as it comes, and returns when the job ends' {
        $job = Submit-GoqJob 'echo first; sleep 1.5; echo second; sleep 1.5; echo third'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $seen = Receive-GoqJob $job.Id -Wait | ForEach-Object { [pscustomobject]@{ At = $watch.Elapsed.TotalSeconds; Line = $_ } }
        $seen.Line | Should -Be @('first', 'second', 'third')
        ($seen[2].At - $seen[0].At) | Should -BeGreaterThan 2 -Because 'the lines came as the job wrote them'
        (Get-GoqJob $job.Id).State | Should -Be 'Completed'
    }

    It 'stops following on Ctrl+C, and the job goes on' {
        $job = Submit-GoqJob 'echo going; sleep 30'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Receive-GoqJob -Home '$goqHome' $($job.Id) -Wait")
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            Wait-Until { $output.Count -ge 1 } -Because 'the first line to be followed'
            $ps.Stop() # what Ctrl+C does
            $async.IsCompleted | Should -BeTrue
            "$($output[0])" | Should -Be 'going'
        }
        finally { $ps.Dispose() }
        (Get-GoqJob $job.Id).State | Should -Be 'Running'
        Stop-GoqJob $job.Id | Out-Null
    }

    It 'stops following the bytes on Ctrl+C (-AsByteStream), while it waits between reads' {
        $job = Submit-GoqJob 'echo going; sleep 300'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Receive-GoqJob -Home '$goqHome' $($job.Id) -Wait -AsByteStream -ViaServer")
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            Wait-Until { $output.Count -ge 1 } -Because 'the first bytes to be followed'
            Stop-PowerShellWithin $ps | Should -BeTrue -Because 'Ctrl+C ends following a job that runs for minutes'
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            [System.Text.Encoding]::UTF8.GetString([byte[]] $output[0].psobject.BaseObject) | Should -Be "going`n"
        }
        finally { $ps.Dispose() }
        Stop-GoqJob $job.Id | Out-Null
    }
}
