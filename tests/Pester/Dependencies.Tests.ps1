# Jobs that wait for others: -DependsOn and -DependencyMode, with real server and worker processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 2
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -DependsOn' {
    It 'runs a three-step pipeline in order, each step after the one before completed' {
        $log = Join-Path $goqHome 'steps.txt'
        $a = Submit-GoqJob "sleep 0.5; echo a >> '$log'"
        $b = Submit-GoqJob "echo b >> '$log'" -DependsOn $a.Id
        $c = Submit-GoqJob "echo c >> '$log'" -DependsOn $b # a JobInfo stands for its id
        $b.State | Should -Be 'Blocked'
        $b.Reason | Should -Be "waiting for job $($a.Id) to complete"
        $b.DependsOn | Should -Be @($a.Id)
        (Get-GoqServer).BlockedJobs | Should -BeGreaterOrEqual 1

        ($a, $b, $c | Wait-GoqJob -Timeout 60).State | Should -Be @('Completed', 'Completed', 'Completed')
        Get-Content $log | Should -Be @('a', 'b', 'c')
        (Get-GoqJob $c.Id).StartedAt | Should -BeGreaterThan (Get-GoqJob $b.Id).FinishedAt
    }

    It 'ends every step after a failed one DependencyFailed, naming the job that broke it, and runs a clean-up step' {
        $a = Submit-GoqJob 'true'
        $b = Submit-GoqJob 'exit 3' -DependsOn $a.Id
        $c = Submit-GoqJob 'echo never' -DependsOn $b.Id
        $d = Submit-GoqJob 'echo never' -DependsOn $c.Id
        $cleanUp = Submit-GoqJob 'echo cleaning up' -DependsOn $b.Id, $c.Id -DependencyMode AfterNotOk
        $always = Submit-GoqJob 'echo always' -DependsOn $d.Id -DependencyMode AfterAny

        $done = $a, $b, $c, $d, $cleanUp, $always | Wait-GoqJob -Timeout 60 | Sort-Object Id # written as each ends, an order timing decides
        $done.State | Should -Be @('Completed', 'Failed', 'DependencyFailed', 'DependencyFailed', 'Completed', 'Completed')
        $done[2].Reason | Should -Be "job $($b.Id) it depends on ended Failed"
        $done[3].Reason | Should -Be "job $($c.Id) it depends on ended DependencyFailed"
        $done[2].StartedAt | Should -BeNullOrEmpty
        Receive-GoqJob $cleanUp.Id | Should -Be 'cleaning up'
        ($d.Id | Get-GoqJob -AsJob | Wait-Job -Timeout 30).JobStateInfo.State | Should -Be 'Failed'
        (Get-GoqJob -State DependencyFailed).Id | Should -Contain $c.Id
        (Get-GoqJob $c.Id | Format-Table | Out-String) | Should -Match 'DepFailed'
        $counts = (Get-GoqServer).Jobs
        $counts.DependencyFailed | Should -Be @(Get-GoqJob -State DependencyFailed).Count
        $counts.Completed | Should -Be @(Get-GoqJob -State Completed).Count
        $counts.Total | Should -Be @(Get-GoqJob).Count
        (Get-GoqServer | Format-List | Out-String) | Should -Match 'Jobs\s*:.*DependencyFailed \d'

        Remove-GoqJob -State DependencyFailed
        Get-GoqJob -State DependencyFailed | Should -BeNullOrEmpty -Because 'ended DependencyFailed jobs can be removed like the others'
    }

    It 'takes DependsOn from each pipeline record by property name, and refuses only the record that names a job that does not exist' {
        $first = Submit-GoqJob 'true'
        $records = @(
            [pscustomobject]@{ Step = 'a'; DependsOn = 999999 }
            [pscustomobject]@{ Step = 'b'; DependsOn = $first.Id }
        )
        $err = $null
        $jobs = @($records | Submit-GoqJob -ScriptBlock { $_.Step } -ErrorVariable err -ErrorAction SilentlyContinue)
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GoqDependencyNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -BeLike '*999999*'
        $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $jobs | Should -HaveCount 1
        $jobs[0].DependsOn | Should -Be @($first.Id)
        (Wait-GoqJob $jobs[0].Id -Timeout 60 | Receive-GoqJob) | Should -Be 'b'
    }

    It 'cancels a blocked job at once, and breaks what depends on a cancelled job' {
        $flag = Join-Path $goqHome 'release'
        $first = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done"
        $second = Submit-GoqJob 'true' -DependsOn $first.Id
        $third = Submit-GoqJob 'true' -DependsOn $second.Id
        Stop-GoqJob $second.Id
        (Get-GoqJob $second.Id).State | Should -Be 'Cancelled'
        (Get-GoqJob $third.Id).State | Should -Be 'DependencyFailed'
        New-Item -ItemType File $flag | Out-Null
        (Wait-GoqJob $first.Id -Timeout 60).State | Should -Be 'Completed'
        (Get-GoqJob $second.Id).State | Should -Be 'Cancelled'
    }
}
