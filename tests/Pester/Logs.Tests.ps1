BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Structured logs' {
    BeforeEach {
        $goqHome = Enter-GoqTestHome
    }
    AfterEach {
        Exit-GoqTestHome $goqHome
    }

    It 'writes one JSON object a line, with event, job and worker, to server.log and the worker log of the host, and no secret, environment or output' {
        $worker = Start-GoqWorker -Slots 1
        $job = Submit-GoqJob 'test "$DEPLOY_TOKEN" = hunter2-in-the-environment && echo printed-only-to-the-output; exit 3' -Environment @{ DEPLOY_TOKEN = 'hunter2-in-the-environment' }
        Wait-GoqJob $job.Id -Timeout 30 -ErrorAction SilentlyContinue | Out-Null
        Receive-GoqJob $job.Id | Should -Be 'printed-only-to-the-output' -Because 'the job had the variable, and wrote the line'
        Wait-Until { Get-GoqLogEntry $goqHome -Worker -Event job.done | Where-Object jobId -EQ $job.Id } -Because 'the worker to log the job''s end'

        $serverLines = Get-Content (Join-Path $goqHome '.goq/server.log')
        $workerLines = Get-Content (Join-Path $goqHome ".goq/worker-$([Environment]::MachineName).log")
        foreach ($line in $serverLines + $workerLines) {
            $line | Should -Match '^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",'
            $entry = $line | ConvertFrom-Json # every line is one object
            $entry.level | Should -BeIn 'info', 'warning', 'error'
            $entry.event | Should -Match '^[a-z_]+\.[a-z_]+$'
            $entry.pid | Should -BeGreaterThan 0
        }

        $connected = Get-GoqLogEntry $goqHome -Event worker.connected
        $connected.workerId | Should -Be $worker.Id
        (Get-GoqLogEntry $goqHome -Event server.started).role | Should -Be 'server'
        $done = Get-GoqLogEntry $goqHome -Worker -Event job.done | Where-Object jobId -EQ $job.Id
        $done.workerId | Should -Be $worker.Id
        $done.role | Should -Be 'keeper' -Because 'the job keeper runs the jobs; its relay logs beside it'
        Get-GoqLogEntry $goqHome -Worker -Event relay.started | Should -Not -BeNullOrEmpty

        $secret = (Get-Content -Raw (Join-Path $goqHome '.goq/cluster.secret')).Trim()
        $everything = ($serverLines + $workerLines) -join "`n"
        $everything | Should -Not -Match 'hunter2' -Because 'a job''s environment is never logged'
        $everything | Should -Not -Match 'printed-only-to-the-output' -Because 'neither its output nor its command'
        $everything | Should -Not -Match ([regex]::Escape($secret.Substring(0, 16))) -Because 'nor the cluster secret'
    }

    It 'keeps what a detached role prints itself apart from the logs, and removes it on a clean exit when empty' {
        $run = Join-Path $goqHome '.goq/run'
        $worker = Start-GoqWorker -Slots 1
        $mine = "*.$($worker.Id.Substring(0, 8)).stderr"
        @(Get-ChildItem $run -Filter $mine).Count | Should -Be 2 -Because 'the relay and its job keeper each have one'
        Get-ChildItem $run -Filter 'server.stderr' | Should -Not -BeNullOrEmpty
        Stop-GoqWorker -Id $worker.Id | Out-Null
        Wait-Until { -not (Get-ChildItem $run -Filter $mine) } -Because 'a clean exit to remove its empty stderr files'
        Stop-GoqServer -Confirm:$false | Out-Null
        Test-Path (Join-Path $run 'server.stderr') | Should -BeFalse
        Start-GoqServer | Out-Null # for AfterEach
    }
}
