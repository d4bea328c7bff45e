# Runs the examples of every cmdlet's help (help/en-US/<Cmdlet>.md, the source of Get-Help -Examples) in a throw-away
# home with a server and a worker, as a user would paste them, and fails on any error they write or throw. The few that
# cannot run here are skipped with the reason listed below. Ids and ports an example names (job 42, worker 3f2a, port
# 9464) are replaced by those of jobs, workers and free ports made for it; the files the jobs run (./train.sh, a
# Makefile, ./runs/*.sh) are in the home.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Examples that need what a test home has not: another host, root, systemd, the foreground.
    $skips = @{
        'Export-GoqHome/1'     = 'copies the archive to another host (scp, ssh)'
        'Export-GoqHome/2'     = 'reads the home /srv/goq, which only root can make'
        'Import-GoqHome/2'     = 'writes the home /srv/goq, which only root can make'
        'New-GoqServiceUnit/1' = 'installs a unit in /etc/systemd/system and starts it (root, systemd)'
        'New-GoqServiceUnit/4' = 'writes to /etc/systemd/system (root)'
        'Start-GoqServer/2'    = 'runs the server in the foreground until systemd stops it'
        'Start-GoqServer/3'    = 'uses the home /srv/goq, which only root can make'
        'Start-GoqWorker/5'    = 'runs the worker in the foreground until systemd stops it'
        'Initialize-GoqHome/5' = 'makes /var/lib/goq a multi-user cluster as root (sudo)'
        'Initialize-GoqHome/6' = 'writes the home /srv/goq (root) for the hosts head1 and head2 and a database db1 (FailOver.Tests.ps1 covers several servers)'
        'Grant-GoqUser/1'      = 'needs a multi-user cluster in /var/lib/goq and the accounts alice and bob (MultiUser.Tests.ps1 covers the command)'
        'Grant-GoqUser/2'      = 'needs a multi-user cluster in /var/lib/goq (MultiUser.Tests.ps1 covers the command)'
        'Get-GoqUser/1'        = 'needs a multi-user cluster (MultiUser.Tests.ps1 covers the command)'
        'Get-GoqUser/2'        = 'needs a multi-user cluster (MultiUser.Tests.ps1 covers the command)'
        'Set-GoqUser/1'        = 'needs a multi-user cluster with a user bob (MultiUser.Tests.ps1 covers the command)'
        'Set-GoqUser/2'        = 'needs a multi-user cluster (MultiUser.Tests.ps1 covers the command)'
        'Revoke-GoqUser/1'     = 'needs a multi-user cluster with a user bob (MultiUser.Tests.ps1 covers the command)'
        'Revoke-GoqUser/2'     = 'needs a multi-user cluster with a user bob (MultiUser.Tests.ps1 covers the command)'
    }

    $script:Examples = foreach ($file in Get-ChildItem (Join-Path $RepoRoot 'help/en-US') -Filter '*-Goq*.md' | Sort-Object Name) {
        $cmdlet = $file.BaseName
        $inExamples = $false
        $example = $null
        $code = $null
        foreach ($line in Get-Content $file.FullName) {
            if ($line -match '^## ') { $inExamples = $line -eq '## EXAMPLES'; continue }
            if (-not $inExamples) { continue }
            if ($line -match '^### Example (\d+): (.+)$') {
                $example = @{ Cmdlet = $cmdlet; Number = [int]$Matches[1]; Title = $Matches[2]; Key = "$cmdlet/$($Matches[1])"; Code = $null }
                continue
            }
            if ($null -eq $code -and $line -eq '```powershell' -and $example -and $null -eq $example.Code) { $code = [System.Collections.Generic.List[string]]::new(); continue }
            if ($null -ne $code) {
                if ($line -eq '```') {
                    $example.Code = $code -join "`n"
                    $example.Skip = $skips[$example.Key]
                    $example
                    $code = $null
                }
                else { $code.Add($line) }
            }
        }
    }

    # To run some alone: $env:GOQ_TEST_EXAMPLES = 'Get-GoqJob/*' (a -like pattern on Cmdlet/Number).
    if ($env:GOQ_TEST_EXAMPLES) { $script:Examples = @($Examples | Where-Object { $_.Key -like $env:GOQ_TEST_EXAMPLES }) }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:TestHome = Enter-GoqTestHome
    # The test's own worker runs its jobs itself (no keeper): one process less to start after each example that stops it.
    # Its label sets it apart from the workers the examples start (a second worker with the same queues and labels is
    # refused), and no example's job requires it.
    function Start-MainWorker {
        foreach ($attempt in 1, 2) {
            # A second try only where a loaded host took longer than the start timeout the first time.
            try { return Start-GoqWorker -Slots 2 -NoJobKeeper -Label 'help-examples' } catch { if ($attempt -eq 2) { throw } }
        }
    }
    $script:MainWorker = Start-MainWorker
    # Example 5 of Get-GoqJob once used $env:USER, which is not set everywhere (a service, a container): run without it.
    $script:SavedUser = $env:USER
    $env:USER = $null

    # What the examples' jobs run, in the home (their working directory).
    Set-Content (Join-Path $TestHome 'Makefile') "all:`n`t@echo built`ntest:`n`t@echo tested`nclean:`n`t@echo cleaned"
    New-Item -ItemType Directory (Join-Path $TestHome 'runs') | Out-Null
    foreach ($name in 'runs/a.sh', 'runs/b.sh', 'train.sh', 'simulate.sh', 'collect.sh', 'solve.sh') {
        $path = Join-Path $TestHome $name
        Set-Content $path "#!/bin/sh`necho `"$name `$*`""
        chmod +x $path
    }
    New-Item -ItemType Directory (Join-Path $TestHome 'logs'), (Join-Path $TestHome 'data') | Out-Null
    foreach ($name in 'a.log', 'b c.log') { Set-Content (Join-Path $TestHome "logs/$name") "a line of $name" }
    Set-Content (Join-Path $TestHome 'data/one.txt') 'x'
    Set-Content (Join-Path $TestHome 'measure.ps1') 'param($Path) $limit = $using:threshold; Get-ChildItem $Path | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Over = $_.Length -gt $limit } }'
    $script:Completed = Submit-GoqJob 'echo done' -Name 'example-done' | Wait-GoqJob -Timeout 120
    $script:Failed = Submit-GoqJob 'exit 3' -Name 'example-fails' | Wait-GoqJob -Timeout 120

    # One runspace for every example, as one session of a user: the module imported, in the home.
    $script:Runspace = [runspacefactory]::CreateRunspace()
    $Runspace.Open()
    $init = [powershell]::Create($Runspace)
    $null = $init.AddScript("Import-Module '$(Join-Path $RepoRoot 'module/Goq.psd1')'; `$PSStyle.OutputRendering = 'PlainText'").Invoke()
    $init.Dispose()

    function New-Waiting { Submit-GoqJob 'echo waited' -Queue 'nobody-serves-this' }
    function New-TempHome { (New-Item -ItemType Directory (Join-Path ([System.IO.Path]::GetTempPath()) ('goq-example-' + [guid]::NewGuid().ToString('N').Substring(0, 8)))).FullName }
    function Test-ServerRunning { try { $null = Get-GoqServer -Home $TestHome; $true } catch { $false } }
    function Stop-AllWorkers {
        Get-GoqWorker -Home $TestHome | Stop-GoqWorker -Home $TestHome -Force
        Wait-Until { @(Get-GoqWorker -Home $TestHome).Count -eq 0 } -TimeoutSec 60 -Because 'every worker to leave'
    }

    # Per example: what it needs made first (returns the replacements of the ids it names), and what it leaves to undo.
    $script:Setup = @{
        'Get-GoqJob/6'         = { @{ '42' = $Completed.Id } }
        'Receive-GoqJob/1'     = { @{ '42' = $Completed.Id } }
        'Remove-GoqJob/3'      = {
            $job = Submit-GoqJob 'sleep 120'
            Wait-Until { (Get-GoqJob $job.Id).StartedAt } -TimeoutSec 60 -Because 'the job to run'
            @{ '42' = $job.Id }
        }
        'Restart-GoqJob/2'     = { @{ '17' = (Submit-GoqJob 'exit 3' | Wait-GoqJob -Timeout 120).Id } }
        'Resume-GoqJob/1'      = { @{ '42' = (Submit-GoqJob 'echo held' -Hold).Id } }
        'Set-GoqJob/1'         = { @{ '42' = (New-Waiting).Id } }
        'Stop-GoqJob/1'        = { @{ '42' = (New-Waiting).Id } }
        'Suspend-GoqJob/1'     = { @{ '42' = (New-Waiting).Id } }
        'Wait-GoqJob/3'        = { @{ '101' = (Submit-GoqJob 'true').Id; '102' = (New-Waiting).Id; '103' = (New-Waiting).Id } }
        'Stop-GoqWorker/3'     = { @{ '3f2a' = (Start-GoqWorker -Slots 1).Id.Substring(0, 8) } } # one with a job keeper, which -Restart needs
        'Start-GoqServer/1'    = { Stop-GoqServer -Confirm:$false | Out-Null; @{} }
        'Start-GoqServer/4'    = { Stop-GoqServer -Confirm:$false | Out-Null; @{ '9464' = Get-FreePort } }
        'Start-GoqWorker/6'    = { Stop-AllWorkers; $null = Submit-GoqJob 'echo one shot'; @{} }
        'Initialize-GoqHome/1' = { $env:GOQ_HOME = New-TempHome; $env:GOQ_JSERV_PORT = Get-FreePort; @{} }
        'Initialize-GoqHome/2' = { $env:GOQ_HOME = New-TempHome; @{} }
        'Initialize-GoqHome/3' = { Remove-Item -Recurse -Force (Join-Path ([IO.Path]::GetTempPath()) "goq-$PID") -ErrorAction SilentlyContinue; @{} }
        'Initialize-GoqHome/4' = {
            $env:GOQ_HOME = New-TempHome
            Initialize-GoqHome -Port (Get-FreePort) | Out-Null
            Start-GoqServer | Out-Null
            @{}
        }
        'Import-GoqHome/1'     = { Export-GoqHome -Path (Join-Path $TestHome 'goq-worker.zip') | Out-Null; $env:GOQ_HOME = New-TempHome; @{} }
        'Import-GoqHome/3'     = {
            Export-GoqHome -Path (Join-Path $TestHome 'other-cluster.zip') | Out-Null
            $env:GOQ_HOME = New-TempHome
            Initialize-GoqHome -Port (Get-FreePort) | Out-Null
            @{}
        }
    }
    # Examples whose errors are what they show: the failure of each failed job, as Receive-Job gives a failed job's.
    $script:ExpectedErrors = @{
        'Get-GoqJob/4' = 'JobStateFailed*'
    }
    $script:Checks = @{
        'Submit-GoqJob/4' = {
            Get-ChildItem (Join-Path $TestHome 'logs') -Filter '*.log.gz' | Should -HaveCount 2 -Because 'gzip got each file, the one with a space included'
        }
        'Submit-GoqJob/5' = {
            $output | Should -Match 'one\.txt' -Because 'the script ran with ./data bound to its param() and wrote objects'
        }
        'Get-GoqJob/7' = {
            $csv = Get-Content -Raw (Join-Path $TestHome 'jobs.csv')
            $csv | Should -Not -Match 'System\.[A-Za-z0-9]+\[\]' -Because 'no column holds an array type name'
            @(Import-Csv (Join-Path $TestHome 'jobs.csv')).Count | Should -BeGreaterThan 1
        }
    }
    $script:InitializeDir = Join-Path ([IO.Path]::GetTempPath()) "goq-$PID"

    # After every example: back to the test home, with its server, one worker and nothing left queued or running.
    function Reset-ExampleHome {
        if ($env:GOQ_HOME -ne $TestHome) {
            $other = $env:GOQ_HOME
            $env:GOQ_HOME = $TestHome
            Remove-GoqTestHome $other
        }
        $env:GOQ_JSERV_PORT = $null
        if (Test-Path $InitializeDir) { Remove-GoqTestHome $InitializeDir }
        if (-not (Test-ServerRunning)) { Start-GoqServer | Out-Null }
        Get-GoqJob -State Waiting, Blocked, Held, Running | Stop-GoqJob -ErrorAction SilentlyContinue
        $workers = @(Get-GoqWorker)
        $keep = $workers | Where-Object { $_.Id -eq $MainWorker.Id } | Select-Object -First 1
        $workers | Where-Object { $_.Id -ne $MainWorker.Id } | Stop-GoqWorker -Force -ErrorAction SilentlyContinue
        if (-not $keep) {
            # A server the example stopped and this reset started again: the test's worker, still running, rejoins it.
            # Unless the example stopped it too (Stop-GoqWorker -Local): then it exits, perhaps only now, and a new one starts.
            if (Test-ProcessAlive $MainWorker.Pid) {
                Wait-Until { (@(Get-GoqWorker).Id -contains $MainWorker.Id) -or -not (Test-ProcessAlive $MainWorker.Pid) } -TimeoutSec 60 -Because 'the test''s worker to rejoin the server, or to exit'
            }
            if (@(Get-GoqWorker).Id -notcontains $MainWorker.Id) { $script:MainWorker = Start-MainWorker }
        }
    }
}

AfterAll {
    $Runspace.Dispose()
    $env:USER = $SavedUser
    Exit-GoqTestHome $TestHome
}

Describe 'The examples in the help of <Cmdlet>' -ForEach @($Examples | Group-Object { $_.Cmdlet } | ForEach-Object { @{ Cmdlet = $_.Name; Items = @($_.Group) } }) {
    It '<Key>: <Title>' -ForEach $Items {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $text = $Code
        if ($Setup[$Key]) {
            foreach ($replacement in (& $Setup[$Key]).GetEnumerator()) {
                $text = $text -replace "\b$([regex]::Escape($replacement.Key))\b", "$($replacement.Value)"
            }
        }
        $ps = [powershell]::Create($Runspace)
        try {
            # One pipeline, not a batch of two statements: a batch runs on a thread-pool item that, when its PowerShell is
            # disposed after a failure, writes to the closed error buffer and takes the whole Pester process down.
            $null = $ps.AddScript("Set-Location -LiteralPath '$($TestHome -replace "'", "''")'`n$text").AddCommand('Out-String').AddParameter('Width', 120)
            $async = $ps.BeginInvoke()
            if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(180))) {
                $ps.Stop()
                throw "the example did not end within 180 s:`n$text"
            }
            $output = $ps.EndInvoke($async) -join ''
            $errors = @($ps.Streams.Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
            if ($ExpectedErrors[$Key]) { $errors = @($errors | Where-Object { $_ -notlike $ExpectedErrors[$Key] }) }
            $errors | Should -BeNullOrEmpty -Because "the example must run without errors:`n$text`n$output"
            if ($Checks[$Key]) { & $Checks[$Key] }
        }
        finally {
            $ps.Dispose()
            Reset-ExampleHome
        }
    }
}
