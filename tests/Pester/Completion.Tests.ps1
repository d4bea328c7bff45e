# Tab completion of job ids, job names and worker ids from the server, never with an error. How fast it answers (the
# completer gives up at 300 ms) is measured by the bench (bench/Bench.ps1, -Completions), not asserted here.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 1
    $ended = Submit-GoqJob 'true' -Name 'finished-one' | Wait-GoqJob -Timeout 30
    $running = Submit-GoqJob 'sleep 60' -Name 'long-runner'
    Wait-Until { (Get-GoqJob $running.Id).State -eq 'Running' } -Because 'the job to start'
    $waiting = Submit-GoqJob 'true' -Name 'in queue'

    function Complete([string] $line) {
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
    }
}
AfterAll {
    Stop-GoqJob $running.Id, $waiting.Id -ErrorAction SilentlyContinue | Out-Null
    Exit-GoqTestHome $goqHome
}

Describe 'Tab completion' {
    It 'completes job ids on every job cmdlet, waiting and running first, with name and command as the tooltip' {
        foreach ($command in 'Get-GoqJob', 'Wait-GoqJob', 'Receive-GoqJob', 'Stop-GoqJob', 'Remove-GoqJob') {
            $matches = Complete "$command -Id "
            $matches.CompletionText | Should -Be @("$($waiting.Id)", "$($running.Id)", "$($ended.Id)") -Because $command
        }
        $first = (Complete 'Get-GoqJob -Id ')[1]
        $first.ToolTip | Should -BeLike '*Running long-runner: sleep 60*'
        (Complete "Get-GoqJob -Id $($running.Id)").CompletionText | Should -Be "$($running.Id)"
    }

    It 'completes job names, quoting a name with a space' {
        (Complete 'Get-GoqJob -Name long').CompletionText | Should -Be 'long-runner'
        (Complete 'Get-GoqJob -Name in').CompletionText | Should -Be "'in queue'"
    }

    It 'completes worker ids for Stop-GoqWorker' {
        $match = Complete 'Stop-GoqWorker -Id '
        $match.CompletionText | Should -Be $worker.Id
        $match.ToolTip | Should -BeLike "*$([Environment]::MachineName)*1 of 1 slots busy*"
    }

    It 'gives nothing, and no error, when the server is down' {
        $dead = New-GoqTestHome
        try {
            $Error.Clear()
            Complete "Get-GoqJob -Home '$dead' -Id " | Where-Object ResultType -EQ 'ParameterValue' | Should -BeNullOrEmpty
            $Error.Count | Should -Be 0
        }
        finally { Remove-GoqTestHome $dead }
    }
}
