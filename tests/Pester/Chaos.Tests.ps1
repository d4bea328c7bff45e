# Chaos, small enough for CI: a few hundred jobs that each append their tag to a ledger, while the server is killed -9
# again and again (and restarted, as a supervisor would). Every acknowledged job must be known, run exactly once, and
# none may end Failed without having run. (Worker kills join this test with issue 9's restartable workers.)
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1'
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null }

Describe 'Chaos' {
    BeforeAll {
        $goqHome = Enter-GoqTestHome
        $null = Start-GoqWorker -Slots 2
        $null = Start-GoqWorker -Slots 2
    }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'runs every acknowledged job exactly once while the server is killed -9 four times' {
        $ledger = Join-Path $goqHome 'ledger.txt'
        $manifest = Join-Path $RepoRoot 'module/Goq.psd1'
        $killer = Start-ThreadJob -ArgumentList $manifest, $goqHome, $ledger -ScriptBlock {
            param($Manifest, $GoqHome, $Ledger)
            Import-Module $Manifest
            $kills = 0
            foreach ($threshold in 30, 90, 160, 230) {
                $at = $threshold + (Get-Random -Maximum 20)
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ([DateTime]::UtcNow -lt $deadline -and -not ((Test-Path $Ledger) -and @(Get-Content $Ledger).Count -ge $at)) {
                    Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
                }
                $serverPid = (Get-GoqServer -Home $GoqHome).ServerPid
                Stop-Process -Id $serverPid -Force
                while (Get-Process -Id $serverPid -ErrorAction SilentlyContinue) { Start-Sleep -Milliseconds 20 } # until it is gone
                $null = Start-GoqServer -Home $GoqHome
                $kills++
            }
            $kills
        }
        $jobs = 1..300 | ForEach-Object { "sleep 0.0$(Get-Random -Maximum 10); echo tag-$_ >> '$ledger'" } | Submit-GoqJob -MaxAttempts 1
        $kills = $killer | Wait-Job -Timeout 240 | Receive-Job
        $kills | Should -Be 4
        $done = $jobs | Wait-GoqJob -Timeout 180
        $done | Should -HaveCount 300 -Because 'every acknowledged job is known after the kills'
        ($done | Where-Object State -NE 'Completed' | ForEach-Object { "$($_.Id) $($_.State): $($_.Reason)" }) | Should -BeNullOrEmpty -Because 'none failed without running'
        $tags = Get-Content $ledger
        ($tags | Group-Object | Where-Object Count -NE 1).Name | Should -BeNullOrEmpty -Because 'no job ran twice'
        $tags | Should -HaveCount 300
    }
}
