# Priorities: Submit-GoqJob -Priority and Set-GoqJob, with real server and worker processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 1 -Prefetch 0 # one slot, nothing held ahead: the queue's order is the run order
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -Priority and Set-GoqJob' {
    It 'runs a job of higher priority before the ones queued ahead of it, and Set-GoqJob moves a waiting job' {
        $flag = Join-Path $goqHome 'go'
        $log = Join-Path $goqHome 'order.txt'
        $blocker = Submit-GoqJob "while [ ! -e '$flag' ]; do sleep 0.05; done"
        Wait-Until { (Get-GoqJob $blocker.Id).Pid } -Because 'the first job to hold the slot'
        $low = 'a', 'b', 'c' | ForEach-Object { Submit-GoqJob "echo $_ >> '$log'" }
        $urgent = Submit-GoqJob "echo urgent >> '$log'" -Priority 10
        $urgent.Priority | Should -Be 10

        $moved = Set-GoqJob $low[2].Id -Priority 5 -PassThru
        $moved.Priority | Should -Be 5
        Set-GoqJob $low[0].Id -Priority 99 -WhatIf
        (Get-GoqJob $low[0].Id).Priority | Should -Be 0 -Because '-WhatIf changes nothing'

        New-Item -ItemType File $flag | Out-Null
        $null = @($blocker) + $low + $urgent | Wait-GoqJob -Timeout 60
        Get-Content $log | Should -Be @('urgent', 'c', 'a', 'b')
    }

    It 'refuses to change a job that has started or ended, and an unknown one' {
        $done = Submit-GoqJob 'true' | Wait-GoqJob -Timeout 60
        $err = $null
        Set-GoqJob $done.Id, 999999 -Priority 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 2
        $ids = @($err.FullyQualifiedErrorId | Sort-Object)
        $ids[0] | Should -BeLike 'GoqJobNotFound,*'
        $ids[1] | Should -BeLike 'GoqJobStarted,*'
        ($err | Where-Object { $_.FullyQualifiedErrorId -like 'GoqJobStarted,*' }).CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err | ForEach-Object { $_.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty }
        (Get-GoqJob $done.Id).Priority | Should -Be 0
    }
}
