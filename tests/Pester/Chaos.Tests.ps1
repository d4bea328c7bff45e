# Chaos, small enough for CI: a few hundred jobs that each append their tag to a ledger, while the server, workers,
# job keepers and whole hosts are killed -9 again and again and started again (as a supervisor would). Every
# acknowledged job must be known and run to its end, and no job whose end its keeper saw may run again.
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

    It 'runs every acknowledged job to its end, never again once its keeper saw it end, while the server, workers, keepers and hosts are killed -9' {
        $ledger = Join-Path $goqHome 'ledger.txt'
        $manifest = Join-Path $RepoRoot 'module/Goq.psd1'
        $killer = Start-ThreadJob -ArgumentList $manifest, $goqHome, $ledger, ${function:Wait-Until}.ToString() -ScriptBlock {
            param($Manifest, $GoqHome, $Ledger, $WaitUntil)
            Import-Module $Manifest
            ${function:Wait-Until} = [scriptblock]::Create($WaitUntil) # common.ps1's, in this thread's own runspace
            # A worker's processes: the relay users see, its keeper, the keeper's sentinel and the jobs it runs.
            function Get-WorkerProcess($Worker) {
                $file = Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$($Worker.Id).keeper" | Select-Object -First 1
                $keeper = if ($file) { (Get-Content -Raw $file.FullName | ConvertFrom-Json).Pid }
                $jobs = Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | Where-Object {
                    try { [IO.File]::ReadAllText("$($_.FullName)/environ").Contains("GOQ_WORKER_ID=$($Worker.Id)") } catch { $false }
                } | ForEach-Object { [int]$_.Name }
                $sentinel = if ($keeper) { Get-Process | Where-Object { $_.Parent.Id -eq $keeper -and $_.CommandLine -match 'goq-sentinel' } | ForEach-Object Id }
                @($Worker.Pid) + @($keeper) + @($sentinel) + @($jobs) | Where-Object { $_ }
            }
            $kills = [ordered]@{ server = 0; worker = 0; keeper = 0; host = 0 }
            $plan = @(@(30, 'server'), @(60, 'keeper'), @(90, 'worker'), @(120, 'host'), @(150, 'server'), @(180, 'keeper'), @(210, 'worker'),
                @(240, 'host'), @(270, 'server'))
            foreach ($step in $plan) {
                $at = $step[0] + (Get-Random -Maximum 15)
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ([DateTime]::UtcNow -lt $deadline -and -not ((Test-Path $Ledger) -and @(Get-Content $Ledger).Count -ge $at)) {
                    Start-Sleep -Milliseconds 20 # poll step, bounded by the deadline
                }
                Start-Sleep -Milliseconds (Get-Random -Maximum 60) # jitter: not always the instant a job wrote its tag
                $kind = $step[1]
                # One that runs still: a worker a host kill took stays listed until the server declares it dead.
                $worker = if ($kind -ne 'server') { Get-GoqWorker -Home $GoqHome | Where-Object { Get-Process -Id $_.Pid -ErrorAction SilentlyContinue } | Get-Random }
                if ($kind -in 'keeper', 'host') {
                    # A worker just started may not have published its keeper yet: a host kill without it would leave the
                    # keeper to see its jobs killed and report them failed, which no lost host does.
                    Wait-Until { Get-ChildItem (Join-Path $GoqHome '.goq/run') -Filter "*.$($worker.Id).keeper" } -TimeoutSec 30 -Because "worker $($worker.Id)'s keeper to be known"
                }
                $victims = switch ($kind) {
                    'server' { @((Get-GoqServer -Home $GoqHome).ServerPid) }
                    'worker' { @($worker.Pid) } # the relay alone: its keeper goes on with the jobs
                    'keeper' { @(Get-WorkerProcess $worker)[1] } # the keeper alone: its jobs die with it, its relay exits
                    'host' { Get-WorkerProcess $worker } # everything of that worker at once, as a lost host; its disk stays
                }
                if ($kind -eq 'host') {
                    # A lost host loses everything at once: stopped first, all of them, so none sees another die (a
                    # keeper outliving its job by a moment would record the job's SIGKILL as its end: a failure no lost
                    # host ever reports), then killed. Stop-Process, one process after another, left that moment open
                    # on a loaded machine.
                    & kill -STOP @victims 2>$null
                    & kill -KILL @victims 2>$null
                }
                else {
                    Stop-Process -Id $victims -Force -ErrorAction SilentlyContinue
                }
                foreach ($victim in $victims) {
                    Wait-Until { -not (Get-Process -Id $victim -ErrorAction SilentlyContinue) } -TimeoutSec 30 -Because "the $kind kill -9 to end process $victim"
                }
                if ($kind -eq 'keeper') {
                    # Its relay follows it.
                    Wait-Until { -not (Get-Process -Id $worker.Pid -ErrorAction SilentlyContinue) } -TimeoutSec 30 -Because "worker $($worker.Id)'s relay ($($worker.Pid)) to exit after its keeper was killed"
                }
                if ($kind -eq 'server') { $null = Start-GoqServer -Home $GoqHome } else { $null = Start-GoqWorker -Home $GoqHome -Slots 2 -Force }
                $kills[$kind]++
            }
            ($kills.Values | ForEach-Object { "$_" }) -join ' '
        }
        # Attempts 3: a run a keeper or host kill cut short runs again (a worker's or server's kill never costs one).
        $jobs = 1..300 | ForEach-Object { "sleep 0.0$(Get-Random -Maximum 10); echo tag-$_ >> '$ledger'" } | Submit-GoqJob -MaxAttempts 3
        $kills = $killer | Wait-Job -Timeout 420 | Receive-Job
        $kills | Should -Be '3 2 2 2'
        $done = $jobs | Wait-GoqJob -Timeout 180
        $done | Should -HaveCount 300 -Because 'every acknowledged job is known after the kills'
        ($done | Where-Object State -NE 'Completed' | ForEach-Object { "$($_.Id) $($_.State): $($_.Reason)" }) | Should -BeNullOrEmpty -Because 'every job ran to its end'
        # A kill right after a job wrote its tag, before its process ended, cuts that run short: it runs again, and its
        # tag comes twice. What must never run again is a run whose end its keeper saw: it logs job.done only once the
        # end is in its ledger, from where it is reported (by the next worker on the host, if the keeper died).
        $endedBy = @{}
        Get-GoqLogEntry $goqHome -Worker -Event 'job.done' | ForEach-Object { $endedBy["$($_.jobId) $($_.workerId)"] = $true }
        $again = foreach ($job in $done | Where-Object Attempts -GT 1) {
            foreach ($run in (Get-GoqJob $job.Id).History) {
                if ($endedBy["$($job.Id) $($run.WorkerId)"]) { "job $($job.Id) ended on worker $($run.WorkerId) and ran again" }
            }
        }
        $again | Should -BeNullOrEmpty -Because 'no job whose end its keeper saw ran again'
        $tags = Get-Content $ledger
        $tags | Sort-Object -Unique | Should -HaveCount 300 -Because 'every job ran to its end'
        # Each run cut short costs its job an attempt (a worker's or server's kill never does), and a job can be cut short
        # more than once (MaxAttempts 3): the extra tags are at most the attempts beyond the first, job by job.
        $twice = $tags | Group-Object | Where-Object Count -GT 1 | ForEach-Object {
            $id = $jobs[[int]($_.Name -replace '^tag-') - 1].Id
            "tag $($_.Name) x$($_.Count): job $id attempts $(($done | Where-Object Id -EQ $id).Attempts)"
        }
        $beyondFirst = ($done | ForEach-Object { $_.Attempts - 1 } | Measure-Object -Sum).Sum
        ($tags.Count - 300) | Should -BeLessOrEqual $beyondFirst -Because "a tag comes twice only from a run cut short, which costs an attempt ($($twice -join '; '))"
        $perWorker = 2 + (Get-GoqWorker | Select-Object -First 1).Prefetch
        @($done | Where-Object Attempts -GT 1).Count | Should -BeLessOrEqual (4 * $perWorker) -Because 'only what a keeper or host kill took (its slots and the jobs it held ahead) ran again'
    }
}
