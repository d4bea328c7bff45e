BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Stopping on SIGTERM, as systemd and docker stop a service' {
    BeforeEach {
        $goqHome = Enter-GoqTestHome
    }
    AfterEach {
        Exit-GoqTestHome $goqHome
    }

    It 'has a worker finish its running job, take no more and leave, with its keeper' {
        $worker = Start-GoqWorker -Slots 1
        $keeper = Get-GoqKeeperPid $goqHome $worker.Id
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'

        & kill -s TERM $worker.Pid
        $next = Submit-GoqJob 'echo after the stop'
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) -and -not (Test-ProcessAlive $keeper) } -Because 'the worker and its keeper to exit'
        Wait-Until { (Get-GoqWorker).Id -notcontains $worker.Id } -Because 'the worker to leave the server'
        (Get-GoqJob $next.Id).State | Should -Be 'Waiting' -Because 'a stopping worker takes no new job, and gives back one it was handed'
        Get-GoqLogEntry $goqHome -Worker -Event signal.sigterm | Where-Object { $_.workerId -eq $worker.Id -and $_.role -eq 'relay' } |
            Should -Not -BeNullOrEmpty -Because 'the relay stopped on the signal, not killed by it'
    }

    It 'has a worker without a keeper finish its running job and leave' {
        $worker = Start-GoqWorker -Slots 1 -NoJobKeeper
        $job = Submit-GoqJob 'sleep 2; echo drained'
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'

        & kill -s TERM $worker.Pid
        (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'drained'
        Wait-Until { -not (Test-ProcessAlive $worker.Pid) } -Because 'the worker to exit'
        Wait-Until { (Get-GoqWorker).Id -notcontains $worker.Id } -Because 'the worker to leave the server'
    }

    It 'has the server commit and close, keeping its waiting jobs for the next start, and tell its workers' {
        $worker = Start-GoqWorker -Slots 1
        $running = Submit-GoqJob 'sleep 2; echo outlived the server'
        Wait-Until { (Get-GoqJob $running.Id).Pid } -Because 'the job to start'
        $held = Submit-GoqJob 'echo later' -Hold
        $serverPid = (Get-GoqServer).ServerPid
        & kill -s TERM $serverPid
        Wait-Until { -not (Test-ProcessAlive $serverPid) } -Because 'the server to exit'
        Test-Path (Join-Path $goqHome '.goq/server.pid') | Should -BeFalse -Because 'a clean stop removes its pid file'
        Get-GoqLogEntry $goqHome -Event signal.sigterm | Should -Not -BeNullOrEmpty
        Wait-Until { Get-GoqLogEntry $goqHome -Worker -Event server.stopping } -Because 'the worker to be told'
        $told = Get-GoqLogEntry $goqHome -Worker -Event server.stopping | Select-Object -First 1
        $told.message | Should -Match 'SIGTERM.*1 running jobs go on'
        $told.workerId | Should -Be $worker.Id

        Start-GoqServer | Out-Null
        (Get-GoqJob $held.Id).State | Should -Be 'Held'
        (Wait-GoqJob $running.Id -Timeout 30).State | Should -Be 'Completed' -Because 'the worker kept its job and rejoined'
        Receive-GoqJob $running.Id | Should -Be 'outlived the server'
    }
}

Describe 'New-GoqServiceUnit' {
    BeforeDiscovery {
        $script:Verifier = Get-Command systemd-analyze -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    }
    BeforeAll {
        # A home whose path systemd and PowerShell must both take literally: a space, a specifier, a variable, a quote.
        $goqHome = Join-Path ([System.IO.Path]::GetTempPath()) ("goq unit %h `$HOME 'q' " + [guid]::NewGuid().ToString('N').Substring(0, 6))
        Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) | Out-Null
        $units = Join-Path $goqHome 'units'
        New-Item -ItemType Directory $units | Out-Null

        # The words of a unit's setting as systemd reads them: double-quoted words with C escapes, '%%' and '$$' halved.
        function Get-UnitWords([string] $Unit, [string] $Key) {
            $line = (Get-Content $Unit | Where-Object { $_.StartsWith("$Key=") } | Select-Object -First 1).Substring($Key.Length + 1)
            $words = [System.Collections.Generic.List[string]]::new()
            $word = [System.Text.StringBuilder]::new()
            $quoted = $false
            for ($i = 0; $i -lt $line.Length; $i++) {
                $c = $line[$i]
                if ($quoted -and $c -eq '\') { $null = $word.Append($line[++$i]) }
                elseif ($c -eq '"') { $quoted = -not $quoted }
                elseif ($c -eq ' ' -and -not $quoted) { if ($word.Length) { $words.Add("$word"); $null = $word.Clear() } }
                else { $null = $word.Append($c) }
            }
            if ($word.Length) { $words.Add("$word") }
            $words | ForEach-Object { $_.Replace('%%', '%').Replace('$$', '$') }
        }

        # Runs a unit's ExecStart with its Environment, as systemd would: the process, started.
        function Start-Unit([string] $Unit) {
            $argv = @(Get-UnitWords $Unit 'ExecStart')
            $start = [System.Diagnostics.ProcessStartInfo]::new($argv[0])
            $argv | Select-Object -Skip 1 | ForEach-Object { $start.ArgumentList.Add($_) }
            $name, $value = (Get-UnitWords $Unit 'Environment') -split '=', 2
            $start.Environment[$name] = $value
            $start.RedirectStandardError = $true
            [System.Diagnostics.Process]::Start($start)
        }
    }
    AfterAll {
        Remove-GoqTestHome $goqHome
    }

    It 'writes a server unit systemd accepts, whose command serves the home and stops cleanly on SIGTERM' {
        $file = New-GoqServiceUnit -Role Server -Home $goqHome -Path (Join-Path $units 'goq-server.service') -InformationVariable hint -InformationAction SilentlyContinue
        $file | Should -BeOfType System.IO.FileInfo
        "$hint" | Should -BeLike '*systemctl enable --now goq-server.service*'
        $text = Get-Content -Raw $file.FullName
        $text | Should -Match '(?m)^Type=simple$'
        $text | Should -Match '(?m)^Restart=on-failure$'
        $text | Should -Match '(?m)^KillMode=mixed$'
        $text | Should -Match '(?m)^TimeoutStopSec=30$'
        $server = Start-Unit $file.FullName
        try {
            Wait-Until { try { (Get-GoqServer -Home $goqHome).ServerPid -eq $server.Id } catch { $false } } -Because 'the unit''s server to answer'
            & kill -s TERM $server.Id
            $server.WaitForExit(20000) | Should -BeTrue
            $server.ExitCode | Should -Be 0 -Because 'a clean stop is not a failure systemd would restart'
        } finally {
            if (-not $server.HasExited) { $server.Kill($true) }
        }
    }

    It 'writes a worker unit whose command joins the server with its queues and drains on SIGTERM' {
        $file = New-GoqServiceUnit -Role Worker -Home $goqHome -Slots 3 -Queue gpu -Label gpu -StopTimeoutSec 120 -Path (Join-Path $units 'goq-worker.service') -InformationAction Ignore
        $text = Get-Content -Raw $file.FullName
        $text | Should -Match '(?m)^TimeoutStopSec=120$'
        Start-GoqServer -Home $goqHome | Out-Null
        $worker = Start-Unit $file.FullName
        try {
            Wait-Until { @(Get-GoqWorker -Home $goqHome | Where-Object Pid -EQ $worker.Id).Count -eq 1 } -Because 'the unit''s worker to join'
            $joined = Get-GoqWorker -Home $goqHome | Where-Object Pid -EQ $worker.Id
            $joined.Slots | Should -Be 3
            $joined.Queues | Should -Be 'gpu'
            $job = Submit-GoqJob -Home $goqHome 'sleep 1; echo served' -Queue gpu -Require gpu -WorkingDirectory $units
            Wait-Until { (Get-GoqJob -Home $goqHome $job.Id).Pid } -Because 'the job to start'
            & kill -s TERM $worker.Id
            (Wait-GoqJob -Home $goqHome $job.Id -Timeout 30).State | Should -Be 'Completed'
            $worker.WaitForExit(30000) | Should -BeTrue
            $worker.ExitCode | Should -Be 0
        } finally {
            if (-not $worker.HasExited) { $worker.Kill($true) }
            Stop-GoqServer -Home $goqHome -Confirm:$false | Out-Null
        }
    }

    It 'writes units that systemd-analyze verify accepts (skipped where systemd-analyze is not installed)' -Skip:(-not $Verifier) {
        $verifier = Get-Command systemd-analyze -CommandType Application | Select-Object -First 1
        foreach ($role in 'Server', 'Worker') {
            $serving = if ($role -eq 'Worker') { @{ Queue = 'gpu'; Slots = 2 } } else { @{} }
            $file = New-GoqServiceUnit -Role $role -Home $goqHome @serving -Path (Join-Path $units "goq-$($role.ToLower()).service") -InformationAction Ignore
            $out = & $verifier.Source verify $file.FullName 2>&1
            $LASTEXITCODE | Should -Be 0 -Because "systemd-analyze verify said: $out"
            "$out" | Should -BeNullOrEmpty -Because 'it has nothing to warn about'
        }
    }

    It 'warns when the unit starts pwsh or the module from a NuGet cache or a temporary folder, and not for a lasting path' {
        [Goq.Hosting.TransientPath]::Why('/usr/bin/pwsh') | Should -BeNullOrEmpty
        [Goq.Hosting.TransientPath]::Why((Join-Path $HOME '.nuget/packages/powershell/7.6.9/tools/net10.0/any/unix/pwsh')) | Should -Be 'a NuGet package cache'
        [Goq.Hosting.TransientPath]::Why((Join-Path ([System.IO.Path]::GetTempPath()) 'checkout/module/Goq.psd1')) | Should -Be 'a temporary folder'

        # This module, from the checkout, and this pwsh are warned about only where they are in such a place (a CI
        # clone in /tmp is).
        $null = New-GoqServiceUnit -Role Worker -Home $goqHome -WarningVariable warned -WarningAction SilentlyContinue -InformationAction Ignore
        $moduleWhy = [Goq.Hosting.TransientPath]::Why((Get-Module Goq).Path)
        if ($moduleWhy) { "$warned" | Should -Match "starts the module from .*, which is in $moduleWhy" } else { "$warned" | Should -Not -Match 'starts the module' }
        $pwshWhy = [Goq.Hosting.TransientPath]::Why((Join-Path $PSHOME 'pwsh'))
        if ($pwshWhy) { "$warned" | Should -Match "starts pwsh from .*, which is in $pwshWhy" } else { "$warned" | Should -Not -Match 'starts pwsh' }

        # The same module imported from a temporary folder (a link to it, as a checkout in /tmp would be).
        $temp = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-unit-module-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $link = Join-Path $temp 'Goq'
        New-Item -ItemType Directory $temp | Out-Null
        try {
            $null = New-Item -ItemType SymbolicLink -Path $link -Target (Join-Path $RepoRoot 'module')
            $manifest = Join-Path $link 'Goq.psd1'
            $out = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command "Import-Module '$manifest'; `$null = New-GoqServiceUnit -Role Server -Home '$($goqHome -replace "'", "''")' -InformationAction Ignore -WarningVariable w -WarningAction SilentlyContinue; `$w.Message" 2>&1 | Out-String
            $out | Should -Match "starts the module from $([regex]::Escape($manifest)), which is in a temporary folder"
        }
        finally {
            # The link alone (never what it points to), then the folder.
            if (Test-Path $link) { [System.IO.Directory]::Delete($link, $false) }
            Remove-Item -Force $temp -ErrorAction SilentlyContinue
        }
    }

    It 'writes the unit to the output without -Path, and refuses worker options for a server' {
        $text = New-GoqServiceUnit -Role Worker -Home $goqHome -InformationAction Ignore
        $text | Should -BeOfType string
        $text | Should -Match '(?m)^ExecStart=.*Start-GoqWorker'
        $text | Should -Not -Match '-Slots' -Because 'without -Slots a worker takes the cores of the host it runs on'
        { New-GoqServiceUnit -Role Server -Home $goqHome -Slots 2 } | Should -Throw -ErrorId 'GoqInvalidServiceOption,Goq.Cmdlets.Commands.NewGoqServiceUnitCommand'
        { New-GoqServiceUnit -Role Worker -Home $goqHome -MetricsPort 9464 } | Should -Throw -ErrorId 'GoqInvalidServiceOption,Goq.Cmdlets.Commands.NewGoqServiceUnitCommand'
        $server = New-GoqServiceUnit -Role Server -Home $goqHome -MetricsPort 9464 -MetricsAddress 0.0.0.0 -InformationAction Ignore
        $server | Should -Match "(?m)^ExecStart=.*Start-GoqServer .*-MetricsPort 9464 -MetricsAddress '0\.0\.0\.0'"
    }
}
