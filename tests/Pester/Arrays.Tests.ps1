# Array jobs: Submit-GoqJob -ArrayIndex and -ThrottleLimit, the array's id standing for its tasks, with real processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 4

    # The most tasks that ran at once, from their own recorded "start end" lines.
    function Get-MostAtOnce([string] $Path) {
        $events = foreach ($line in Get-Content $Path) {
            $start, $end = ($line -split ' ')[0, 1] | ForEach-Object { [double]$_ }
            [pscustomobject]@{ At = $start; Step = 1 }
            [pscustomobject]@{ At = $end; Step = -1 }
        }
        $now = 0; $most = 0
        foreach ($e in $events | Sort-Object At, Step) { $now += $e.Step; $most = [Math]::Max($most, $now) }
        $most
    }
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -ArrayIndex' {
    It 'makes one array of tasks, each told its index, never more running than -ThrottleLimit, each with its own output file' {
        $log = Join-Path $goqHome 'array.txt'
        $array = Submit-GoqJob "s=`$(date +%s.%N); sleep 0.3; echo `"`$s `$(date +%s.%N)`" >> '$log'; echo `"`$GOQ_ARRAY_ID of `$GOQ_ARRAY_COUNT in `$GOQ_ARRAY_JOB_ID`"" -ArrayIndex (0..9) -ThrottleLimit 3
        @($array).Count | Should -Be 1 -Because 'one object for the whole array'
        $array.TaskCount | Should -Be 10

        $done = Wait-GoqJob $array.Id -Timeout 90
        $done | Should -HaveCount 10
        $done.State | Sort-Object -Unique | Should -Be 'Completed'
        ($done | Sort-Object ArrayIndex).ArrayIndex | Should -Be (0..9)
        $done.ArrayJobId | Sort-Object -Unique | Should -Be $array.Id
        Get-MostAtOnce $log | Should -Be 3 -Because 'three at a time, never four, though the worker has four slots'

        $seventh = $done | Where-Object ArrayIndex -EQ 7
        Receive-GoqJob $seventh.Id | Should -Be "7 of 10 in $($array.Id)"
        Split-Path $seventh.OutputPath -Leaf | Should -Be ('out.{0:D5}.7' -f $array.Id)
        Get-Content $seventh.OutputPath | Should -Be "7 of 10 in $($array.Id)"
    }

    It 'lists the tasks by the array''s id, picks some with -ArrayIndex, and runs a script block per task with $GoqArrayId' {
        $array = Submit-GoqJob { $GoqArrayId * 10 + [int]$env:GOQ_ARRAY_ID } -ArrayIndex 1, 2, 3
        $tasks = Get-GoqJob $array.Id
        $tasks | Should -HaveCount 3
        $tasks.ArrayIndex | Should -Be @(1, 2, 3)
        $tasks.Id | Should -Be @(($array.Id + 1), ($array.Id + 2), ($array.Id + 3))
        (Get-GoqJob $array.Id -ArrayIndex 2).Id | Should -Be ($array.Id + 2)

        $null = Wait-GoqJob $array.Id -Timeout 60
        $tasks | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be @(11, 22, 33)
    }

    It 'stops, waits for and removes all of an array''s tasks by its id, and -DependsOn on it waits for all of them' {
        $flag = Join-Path $goqHome 'go-array'
        $array = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done" -ArrayIndex (0..4)
        $after = Submit-GoqJob 'echo after' -DependsOn $array.Id
        (Get-GoqJob $after.Id).State | Should -Be 'Blocked'
        New-Item -ItemType File $flag | Out-Null
        ($after | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed'
        (Get-GoqJob $array.Id).State | Sort-Object -Unique | Should -Be 'Completed'

        $big = Submit-GoqJob 'sleep 30' -ArrayIndex (0..999) -Hold
        (Get-GoqJob $big.Id -State Held) | Should -HaveCount 1000
        (Get-GoqServer).HeldJobs | Should -Be 1000
        Stop-GoqJob $big.Id
        $stopped = Get-GoqJob $big.Id
        $stopped | Should -HaveCount 1000
        $stopped.State | Sort-Object -Unique | Should -Be 'Cancelled'

        (Get-Job | Where-Object { $_.PSJobTypeName -eq 'GoqJob' -and $null -ne $_.Info.ArrayJobId }) | Should -BeNullOrEmpty -Because 'an array is not a PowerShell job: Get-Job leaves its tasks out'
        Remove-GoqJob $big.Id, $array.Id
        Get-GoqJob $big.Id -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqJobNotFound,*'
    }

    It 'refuses -ThrottleLimit without -ArrayIndex, a repeated index, and -AsJob with an array' {
        { Submit-GoqJob 'true' -ThrottleLimit 2 -ErrorAction Stop } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob 'true' -ArrayIndex 1, 1 -ErrorAction Stop } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob 'true' -ArrayIndex 1 -AsJob -ErrorAction Stop } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
    }
}
