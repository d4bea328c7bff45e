# No size breaks a promise: jobs too large are refused at once, batches split by bytes, worker memory bounded.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 2

    # Peak and current resident memory of a process, in MB (VmHWM, VmRSS).
    function Get-Memory([int] $Id) {
        $status = Get-Content "/proc/$Id/status"
        $kb = { param($name) [double](($status | Where-Object { $_ -like "${name}:*" }) -replace '[^0-9]', '') }
        [pscustomobject]@{ PeakMB = (& $kb 'VmHWM') / 1024; RssMB = (& $kb 'VmRSS') / 1024 }
    }
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Sizes' {
    It 'refuses a job larger than a message at once, naming the limit, and keeps the other records' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $errs = $null
        $jobs = @('echo small', ('echo ' + 'x' * 10MB), 'echo after') | Submit-GoqJob -ErrorVariable errs -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'refused before anything is sent, not after a timeout'
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'GoqMessageTooLarge,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].Exception.Message | Should -Match '4,194,304 bytes'
        $errs[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $jobs.Command | Should -Be @('echo small', 'echo after')
    }

    It 'splits a pipeline of large records into batches that fit, and lists them all' {
        $before = @(Get-GoqJob).Count
        $command = 'true ' + 'y' * 9KB
        $jobs = 1..1000 | ForEach-Object { $command } | Submit-GoqJob
        $jobs | Should -HaveCount 1000
        @(Get-GoqJob).Count | Should -Be ($before + 1000) -Because 'a list far larger than one message comes back whole'
        ($jobs | Wait-GoqJob -Timeout 120 | Where-Object State -NE 'Completed') | Should -BeNullOrEmpty
    }
}

Describe 'Back-pressure' {
    It 'keeps the worker and its keeper within 100 MB of their idle memory while a job writes 300 MB, and loses no line' {
        # The keeper reads the job's pipes and holds its output until the server has it; the relay passes it on.
        $pids = $worker.Pid, (Get-GoqKeeperPid $goqHome $worker.Id)
        $idle = $pids | ForEach-Object { Get-Memory $_ }
        # 300,000 lines of 1,000 bytes, as fast as the job can write them.
        $job = Submit-GoqJob "yes $('z' * 999) | head -n 300000" | Wait-GoqJob -Timeout 300
        $job.State | Should -Be 'Completed'
        $after = $pids | ForEach-Object { Get-Memory $_ }
        $growth = ($after[0].PeakMB - $idle[0].RssMB) + ($after[1].PeakMB - $idle[1].RssMB)
        $growth | Should -BeLessThan 100 -Because "they held back the job's output (relay peak $($after[0].PeakMB) MB, keeper peak $($after[1].PeakMB) MB)"
        (Get-Item $job.OutputPath).Length | Should -Be 300000000
    }
}
