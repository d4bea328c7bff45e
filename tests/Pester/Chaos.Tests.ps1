# Chaos, small enough for CI: a few hundred jobs that each append their tag to a ledger, while the server and the
# workers are killed -9 again and again and started again (as a supervisor would). Every acknowledged job must be
# known, run exactly once, and none may end Failed without having run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1'
    $env:GOQ_DEAD_WORKER_SEC = '10' # a killed worker is back well within this
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null; $env:GOQ_DEAD_WORKER_SEC = $null }

Describe 'Chaos' {
    BeforeAll {
        $goqHome = Enter-GoqTestHome
        $null = Start-GoqWorker -Slots 2
        $null = Start-GoqWorker -Slots 2 -Force # two workers on purpose: one is killed at a time
    }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'runs every acknowledged job exactly once while the server is killed -9 four times and workers three times' {
        $ledger = Join-Path $goqHome 'ledger.txt'
        $manifest = Join-Path $RepoRoot 'module/Goq.psd1'
        $killer = Start-ThreadJob -ArgumentList $manifest, $goqHome, $ledger -ScriptBlock {
            param($Manifest, $GoqHome, $Ledger)
            Import-Module $Manifest
            $kills = [ordered]@{ server = 0; worker = 0 }
            foreach ($step in @(@(30, 'server'), @(70, 'worker'), @(110, 'server'), @(150, 'worker'), @(190, 'server'), @(230, 'worker'), @(260, 'server'))) {
                $at = $step[0] + (Get-Random -Maximum 15)
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ([DateTime]::UtcNow -lt $deadline -and -not ((Test-Path $Ledger) -and @(Get-Content $Ledger).Count -ge $at)) {
                    Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
                }
                if ($step[1] -eq 'server') {
                    $victim = (Get-GoqServer -Home $GoqHome).ServerPid
                } else {
                    $victim = (Get-GoqWorker -Home $GoqHome | Get-Random).Pid
                }
                Stop-Process -Id $victim -Force
                while (Get-Process -Id $victim -ErrorAction SilentlyContinue) { Start-Sleep -Milliseconds 20 } # until it is gone
                if ($step[1] -eq 'server') { $null = Start-GoqServer -Home $GoqHome } else { $null = Start-GoqWorker -Home $GoqHome -Slots 2 -Force }
                $kills[$step[1]]++
            }
            "$($kills.server) $($kills.worker)"
        }
        $jobs = 1..300 | ForEach-Object { "sleep 0.0$(Get-Random -Maximum 10); echo tag-$_ >> '$ledger'" } | Submit-GoqJob -MaxAttempts 1
        $kills = $killer | Wait-Job -Timeout 300 | Receive-Job
        $kills | Should -Be '4 3'
        $done = $jobs | Wait-GoqJob -Timeout 180
        $done | Should -HaveCount 300 -Because 'every acknowledged job is known after the kills'
        ($done | Where-Object State -NE 'Completed' | ForEach-Object { "$($_.Id) $($_.State): $($_.Reason)" }) | Should -BeNullOrEmpty -Because 'none failed without running'
        $tags = Get-Content $ledger
        ($tags | Group-Object | Where-Object Count -NE 1).Name | Should -BeNullOrEmpty -Because 'no job ran twice'
        $tags | Should -HaveCount 300
        ($done.Attempts | Sort-Object -Unique) | Should -Be 1
    }
}
