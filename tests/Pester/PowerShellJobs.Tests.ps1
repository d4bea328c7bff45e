# Goq jobs in PowerShell's job system: Submit-GoqJob -AsJob and the built-in job cmdlets, across sessions.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 2
    $pwsh = Join-Path $PSHOME 'pwsh'
}
AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'GoqJob' | Remove-Job -Force -ErrorAction SilentlyContinue
    Exit-GoqTestHome $goqHome
}

Describe 'Submit-GoqJob -AsJob' {
    It 'returns a GoqJob that Get-Job lists and Wait-Job and Receive-Job use, with objects and streams' {
        $job = Submit-GoqJob { Write-Warning 'careful'; [pscustomobject]@{ Answer = 42 }; 'done' } -AsJob -Name asjob-demo
        $job | Should -BeOfType ([Goq.GoqJob])
        $job.PSJobTypeName | Should -Be 'GoqJob'
        $job.GoqId | Should -BeGreaterThan 0
        $job.Name | Should -Be 'asjob-demo'
        (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
        (Get-Job -Name 'asjob-*').GoqId | Should -Be $job.GoqId
        (Get-Job -InstanceId $job.InstanceId).GoqId | Should -Be $job.GoqId

        Wait-Job $job -Timeout 60 | Should -Be $job
        $job.State | Should -Be 'Completed'
        $job.ExitCode | Should -Be 0
        $job.Location | Should -Be ([Environment]::MachineName)
        $job.Info.State | Should -Be 'Completed'
        (Get-Job -State Completed).InstanceId | Should -Contain $job.InstanceId
        $out = Receive-Job $job -Keep -WarningVariable warned -WarningAction SilentlyContinue
        $out[0].Answer | Should -Be 42
        $out[0].PSComputerName | Should -Be ([Environment]::MachineName)
        $out[1] | Should -Be 'done'
        "$warned" | Should -Be 'careful'
        $job.HasMoreData | Should -BeTrue -Because '-Keep leaves the data'
        $null = Receive-Job $job -WarningAction SilentlyContinue
        $job.HasMoreData | Should -BeFalse
        Receive-GoqJob $job -WarningAction SilentlyContinue | Select-Object -Last 1 | Should -Be 'done' -Because 'the Goq cmdlets take a GoqJob too'
    }

    It 'shows a running job''s output so far with Receive-Job, its state as Running, and streams the rest with Receive-Job -Wait' {
        $flag = Join-Path $goqHome "go-$([guid]::NewGuid().ToString('N'))"
        $job = Submit-GoqJob { param($Flag) 'first'; while (-not (Test-Path $Flag)) { Start-Sleep -Milliseconds 50 }; 'second' } -ArgumentList $flag -AsJob
        Wait-Until { $job.HasMoreData } -TimeoutSec 30 -Because 'the first line to reach the running job'
        Wait-Until { $job.State -eq 'Running' } -TimeoutSec 10 -Because 'the job to show as running'
        Receive-Job $job | Should -Be 'first'
        $job.HasMoreData | Should -BeFalse
        New-Item -ItemType File $flag | Out-Null
        Receive-Job $job -Wait | Should -Be 'second' -Because 'only what came after the first read'
        $job.State | Should -Be 'Completed'
    }

    It 'maps Failed with its reason, and a command job''s exit code' {
        $job = Submit-GoqJob 'echo out; echo err >&2; exit 3' -AsJob
        Wait-Job $job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Failed'
        $job.ExitCode | Should -Be 3
        $job.JobStateInfo.Reason.Message | Should -Be 'exit code 3'
        Receive-Job $job -ErrorVariable errs -ErrorAction SilentlyContinue | Should -Be 'out'
        "$($errs | Where-Object { "$_" -eq 'err' })" | Should -Be 'err'
    }

    It 'waits for any with Wait-Job -Any, and times out with -Timeout' {
        $slow = Submit-GoqJob 'sleep 20' -AsJob
        $fast = Submit-GoqJob 'true' -AsJob
        (Wait-Job $slow, $fast -Any -Timeout 30).GoqId | Should -Be $fast.GoqId
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        Wait-Job $slow -Timeout 1 | Should -BeNullOrEmpty
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        Stop-Job $slow
        $slow.State | Should -Be 'Stopped'
    }

    It 'stops a running job with Stop-Job (on the server), and Receive-Job -Wait -AutoRemoveJob dismisses it' {
        $job = Submit-GoqJob { 'started'; Start-Sleep 60 } -AsJob
        Wait-Until { (Get-GoqJob $job.GoqId).State -eq 'Running' } -Because 'the job to start'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        Stop-Job $job
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $job.State | Should -Be 'Stopped'
        (Get-GoqJob $job.GoqId).State | Should -Be 'Cancelled'

        $next = Submit-GoqJob { 'waited for' } -AsJob
        Receive-Job $next -Wait -AutoRemoveJob | Should -Be 'waited for'
        Get-Job -InstanceId $next.InstanceId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-GoqJob $next.GoqId).Dismissed | Should -BeTrue -Because 'removing the PowerShell job dismisses it and keeps the Goq job'
    }

    It 'refuses to remove an unfinished job without -Force, and with -Force cancels it first' {
        $job = Submit-GoqJob 'sleep 60' -AsJob
        Wait-Until { (Get-GoqJob $job.GoqId).State -eq 'Running' } -Because 'the job to start'
        { Remove-Job $job -ErrorAction Stop } | Should -Throw
        (Get-GoqJob $job.GoqId).State | Should -Be 'Running'
        Remove-Job $job -Force
        $kept = Get-GoqJob $job.GoqId
        $kept.State | Should -Be 'Cancelled'
        $kept.Dismissed | Should -BeTrue
    }

    It 'dismisses a job with Remove-Job from Get-Job in every session, and keeps its history and output on the server' {
        $job = Submit-GoqJob { 'kept on the server' } -AsJob -Name dismiss-demo
        Wait-Job $job -Timeout 60 | Out-Null
        $listed = "Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$goqHome'; " +
            "@(Get-Job | Where-Object InstanceId -EQ '$($job.InstanceId)').Count"
        & $pwsh -NoProfile -NonInteractive -Command $listed | Should -Be 1 -Because 'another session lists it before'
        (Get-Job).InstanceId | Should -Contain $job.InstanceId

        # The clean-up line, typed in another session.
        & $pwsh -NoProfile -NonInteractive -Command ("Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$goqHome'; " +
            "Get-Job -State Completed | Where-Object InstanceId -EQ '$($job.InstanceId)' | Remove-Job")
        (Get-Job).InstanceId | Should -Not -Contain $job.InstanceId -Because 'a session that listed it before leaves it out now'
        & $pwsh -NoProfile -NonInteractive -Command $listed | Should -Be 0 -Because 'a new session does not list it'

        $kept = Get-GoqJob $job.GoqId
        $kept.State | Should -Be 'Completed'
        $kept.Dismissed | Should -BeTrue
        (Get-GoqJob -Name dismiss-demo).Id | Should -Be $job.GoqId -Because 'Get-GoqJob is the server''s history'
        Receive-GoqJob $job.GoqId | Should -Be 'kept on the server'
        Remove-GoqJob $job.GoqId
        Get-GoqJob $job.GoqId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'Remove-GoqJob still deletes'
    }
}

Describe 'Goq jobs in other sessions' {
    It 'lists the user''s Goq jobs in a new pwsh with the same InstanceId, and receives them there' {
        $job = Submit-GoqJob { [pscustomobject]@{ From = 'first session' } } -AsJob
        Wait-Job $job -Timeout 60 | Out-Null
        $script = "Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$goqHome'; " +
            "`$j = Get-Job -InstanceId '$($job.InstanceId)'; `$j.PSJobTypeName; `$j.State; (`$j | Receive-Job).From"
        $lines = & $pwsh -NoProfile -NonInteractive -Command $script
        $lines | Should -Be @('GoqJob', 'Completed', 'first session')
    }

    It 'makes the GoqJob of an ended job final at once, with its results for the first Receive-Job' {
        $done = Submit-GoqJob { Write-Warning 'late'; 'result' } | Wait-GoqJob -Timeout 60
        $job = Get-GoqJob -Id $done.Id -AsJob
        $job.State | Should -Be 'Completed'
        $job.HasMoreData | Should -BeTrue
        $job | Receive-Job -WarningVariable warned -WarningAction SilentlyContinue | Should -Be 'result'
        "$warned" | Should -Be 'late'
        $job.HasMoreData | Should -BeFalse

        $quiet = Submit-GoqJob 'true' | Wait-GoqJob -Timeout 60
        (Get-GoqJob -Id $quiet.Id -AsJob).HasMoreData | Should -BeFalse -Because 'a job that wrote nothing has no data'
    }

    It 'reads no job''s output to list it with Get-Job, and reads all of it for Receive-Job' {
        $lines = 200000
        $big = Submit-GoqJob "yes $('x' * 99) | head -n $lines" | Wait-GoqJob -Timeout 120
        $big.State | Should -Be 'Completed'
        $bytes = $lines * 100
        $script = "Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$goqHome'; " +
            "`$before = [GC]::GetTotalMemory(`$true); `$all = @(Get-Job); `$after = [GC]::GetTotalMemory(`$true); " +
            "`$j = `$all | Where-Object GoqId -EQ $($big.Id); " +
            "'{0}|{1}|{2}|{3}' -f (`$after - `$before), `$j.State, `$j.HasMoreData, @(`$j | Receive-Job).Count"
        $grown, $state, $hasMore, $received = (& $pwsh -NoProfile -NonInteractive -Command $script) -split '\|'
        [long]$grown | Should -BeLessThan ($bytes / 2) -Because "listing a job that printed $bytes bytes reads none of them"
        $state | Should -Be 'Completed'
        $hasMore | Should -Be 'True'
        [int]$received | Should -Be $lines -Because 'Receive-Job reads all of it'
    }

    It 'shows a job this session holds as Completed in the first Get-Job after its end, and reads its output only for Receive-Job' {
        $flag = Join-Path $goqHome "go-$([guid]::NewGuid().ToString('N'))"
        $lines = 20000
        $submitted = Submit-GoqJob { param($Flag, $Lines) 'first'; while (-not (Test-Path $Flag)) { Start-Sleep -Milliseconds 50 }; 1..$Lines } -ArgumentList $flag, $lines
        Wait-Until { (Get-GoqJob -Id $submitted.Id).State -eq 'Running' } -TimeoutSec 30 -Because 'the job to start'
        $held = Get-Job | Where-Object GoqId -EQ $submitted.Id
        $held.State | Should -Be 'Running'
        New-Item -ItemType File $flag | Out-Null
        Wait-Until { (Get-GoqJob -Id $submitted.Id).State -eq 'Completed' } -TimeoutSec 60 -Because 'the server to see the job end'
        $listed = Get-Job -State Completed | Where-Object GoqId -EQ $submitted.Id
        $listed.InstanceId | Should -Be $held.InstanceId -Because 'one Get-Job after the end shows it Completed, the output not read yet'
        $listed.State | Should -Be 'Completed'
        $listed.HasMoreData | Should -BeTrue
        $out = @(Receive-Job $listed)
        $out.Count | Should -Be ($lines + 1) -Because 'what was followed while it ran and the rest, each once'
        $out[0] | Should -Be 'first'
        $out[-1] | Should -Be $lines
    }

    It 'turns any Goq jobs into GoqJobs with Get-GoqJob -AsJob' {
        $failed = Submit-GoqJob { throw 'broken on purpose' } | Wait-GoqJob -Timeout 60
        $jobs = Get-GoqJob -Id $failed.Id -AsJob
        $jobs | Should -BeOfType ([Goq.GoqJob])
        Wait-Job $jobs -Timeout 30 | Out-Null
        $jobs.State | Should -Be 'Failed'
        $jobs | Receive-Job -ErrorVariable errs -ErrorAction SilentlyContinue
        "$errs" | Should -BeLike '*broken on purpose*'
    }

    It 'keeps Get-Job quick and quiet when the home is not initialized or its server is down' {
        $local = Start-ThreadJob { 1 }
        $empty = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-none-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $empty | Out-Null
        try {
            foreach ($case in @{ GOQ_HOME = $empty }, @{ GOQ_HOME = $goqHome; Down = $true }) {
                $script = "Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$($case.GOQ_HOME)'; " +
                    "`$null = Start-ThreadJob { 1 }; `$w = [Diagnostics.Stopwatch]::StartNew(); `$all = @(Get-Job -ErrorVariable e 2>&1); " +
                    "`$s = `$w.Elapsed.TotalSeconds; `$v = @(Get-Job -Verbose 4>&1 | Where-Object { `$_ -is [Management.Automation.VerboseRecord] -and `$_.Message -like 'Goq:*' }); " +
                    "'{0}|{1}|{2}|{3}' -f `$s, @(`$all | Where-Object PSJobTypeName -EQ 'ThreadJob').Count, `$e.Count, `$v.Count"
                if ($case.Down) { Stop-GoqServer -Confirm:$false }
                try { $seconds, $threadJobs, $errors, $verbose = (& $pwsh -NoProfile -NonInteractive -Command $script) -split '\|' }
                finally { if ($case.Down) { Start-GoqServer | Out-Null } }
                [double]$seconds | Should -BeLessThan 1
                $threadJobs | Should -Be 1 -Because "the session's other jobs are still listed"
                $errors | Should -Be 0
                $verbose | Should -Be 1 -Because 'Get-Job -Verbose says why the Goq jobs are missing'
            }
        }
        finally { Remove-Item -Recurse -Force $empty; $local | Remove-Job -Force }
    }
}

Describe 'Get-Job when the server stops answering' {
    BeforeAll {
        $downHome = New-GoqTestHome
        Start-GoqServer -Home $downHome | Out-Null
        $null = Start-GoqWorker -Home $downHome -Slots 2
    }
    AfterAll { Remove-GoqTestHome $downHome }

    It 'shows every listed job''s HasMoreData without waiting out a request time-out for each' {
        $jobs = 1..20 | ForEach-Object { "echo row $_" } | Submit-GoqJob -Home $downHome | Wait-GoqJob -Home $downHome -Timeout 120
        $jobs | Should -HaveCount 20
        # A new session lists the jobs, then its server dies; a job table asks each row for HasMoreData. Each asking the
        # dead server in turn took its 5 s time-out: 100 s for this table.
        $script = "Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$downHome'; " +
            "`$all = @(Get-Job | Where-Object PSJobTypeName -EQ GoqJob); `$server = (Get-GoqServer).ServerPid; " +
            "Stop-Process -Id `$server -Force; while (Get-Process -Id `$server -ErrorAction SilentlyContinue) { Start-Sleep -Milliseconds 50 }; " +
            "'{0}|{1}' -f `$all.Count, ((`$all | ForEach-Object { `$_.HasMoreData }) -join ',')"
        $out = Join-Path $downHome 'table.txt'
        $child = Start-Process (Join-Path $PSHOME 'pwsh') -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $script -RedirectStandardOutput $out -PassThru
        try {
            $child.WaitForExit(60000) | Should -BeTrue -Because 'one unanswered request silences the others for a while (20 x 5 s before)'
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) } }
        $count, $hasMore = (Get-Content -Raw $out).Trim() -split '\|'
        [int]$count | Should -Be 20
        $hasMore -split ',' | Sort-Object -Unique | Should -Be 'True' -Because 'a job whose output cannot be looked at may have some: Receive-Job will say'
    }
}
