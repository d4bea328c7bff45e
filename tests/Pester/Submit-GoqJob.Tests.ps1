BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = New-GoqTestHome
    $env:GOQ_HOME = $goqHome
    Start-GoqServer | Out-Null
    $worker = Start-GoqWorker -Slots 2
    $work = Join-Path $goqHome 'work'
    New-Item -ItemType Directory $work | Out-Null
    Copy-Item (Join-Path $Fixtures '*') $work
    Push-Location $work
}
AfterAll {
    Pop-Location
    Remove-GoqTestHome $goqHome
    $env:GOQ_HOME = $null
}

Describe 'Submit-GoqJob' {
    It 'refuses an argument, a command line or a variable longer than exec takes, naming the limit, and submits the others' {
        # Such jobs used to be queued and then fail on the worker with E2BIG ("Argument list too long").
        $long = 'x' * 140KB
        $jobs = @(
            Submit-GoqJob /bin/echo -ArgumentList 'short', $long -ErrorVariable +refused -ErrorAction SilentlyContinue
            Submit-GoqJob "echo $long" -ErrorVariable +refused -ErrorAction SilentlyContinue
            Submit-GoqJob 'echo fine' -Environment @{ BIG_TEST_VAR = $long } -ErrorVariable +refused -ErrorAction SilentlyContinue
            Submit-GoqJob /bin/echo -ArgumentList ('y' * 100KB) -ErrorVariable +refused -ErrorAction SilentlyContinue
        )
        $refused | Should -HaveCount 3
        $refused.FullyQualifiedErrorId | ForEach-Object { $_ | Should -BeLike 'GoqArgumentListTooLong,*' }
        $refused[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$($refused[0])" | Should -BeLike '*argument 2 takes 143,361 bytes; Linux starts a program with at most 131,072 bytes (128 KiB) in one argument*'
        "$($refused[1])" | Should -BeLike '*its command line takes*131,072 bytes (128 KiB)*'
        "$($refused[2])" | Should -BeLike '*its environment variable BIG_TEST_VAR takes*'
        $jobs | Should -HaveCount 1 -Because 'an argument of 100 KiB is within the limit'
        ($jobs | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed'
    }

    It "runs goq's good.sh and keeps its exact two lines of output" {
        $job = Submit-GoqJob -LiteralPath ./good.sh
        $job | Should -BeOfType ([Goq.JobInfo])
        $job.Kind | Should -Be 'Script'
        $done = Wait-GoqJob $job.Id -Timeout 30
        $done.State | Should -Be 'Completed'
        $done.ExitCode | Should -Be 0
        $done.OutputPath | Should -Be (Join-Path $work ('o/out.{0:D5}' -f $job.Id))
        Get-Content $done.OutputPath | Should -Be @("I'm starting some work", "I'm done with my work")
        Receive-GoqJob $job.Id | Should -Be @("I'm starting some work", "I'm done with my work")
    }

    It "keeps badboy.sh's stderr and stdout, in order, and apart" {
        $job = Submit-GoqJob -LiteralPath ./badboy.sh | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Completed'
        Get-Content $job.OutputPath | Should -Be @('some stderr', 'some stdout')
        $errs = $null
        $out = Receive-GoqJob $job.Id -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -Be 'some stdout'
        $errs | Should -HaveCount 1
        $errs[0].Exception.Message | Should -Be 'some stderr'
        $merged = Receive-GoqJob $job.Id -ErrorAction Continue 2>&1 | ForEach-Object { "$_" }
        $merged | Should -Be @('some stderr', 'some stdout')
        # Read from the file here (this host sees it) or through the server: the same lines, streams and order.
        $viaServer = Receive-GoqJob $job.Id -ViaServer -ErrorAction Continue 2>&1 | ForEach-Object { "$($_.GetType().Name):$_" }
        $viaServer | Should -Be @('ErrorRecord:some stderr', 'String:some stdout')
    }

    It 'runs a command line through the shell and records its exit code' {
        $job = Submit-GoqJob 'echo hi; exit 3' | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Failed'
        $job.ExitCode | Should -Be 3
        $job.Kind | Should -Be 'Shell'
        Receive-GoqJob $job.Id | Should -Be 'hi'
    }

    It 'runs a program with exactly the arguments given: no shell, no re-splitting' {
        $job = Submit-GoqJob /bin/echo -ArgumentList 'hello world', 'x' | Wait-GoqJob -Timeout 30
        Receive-GoqJob $job.Id | Should -Be 'hello world x'
        $tricky = @('two  spaces', "it's", '$HOME', 'a"b', '*', '; exit 9', '')
        $job = Submit-GoqJob printf -ArgumentList (@('[%s]\n') + $tricky) | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be ($tricky | ForEach-Object { "[$_]" })
    }

    It 'fails a segfaulting program cleanly, and the worker runs the next job' {
        $job = Submit-GoqJob -LiteralPath ./faulter.sh | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Failed'
        $job.ExitCode | Should -Be 139
        $job.Reason | Should -BeLike '*signal 11*SIGSEGV*'
        Get-Content $job.OutputPath | Should -Contain 'about to fault'
        (Get-Content $job.OutputPath)[-1] | Should -BeLike 'goq: *signal 11*'
        (Submit-GoqJob 'echo after' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed'
        (Get-GoqWorker).Id | Should -Contain $worker.Id
    }

    It 'fails a missing program cleanly, and the worker runs the next job' {
        $job = Submit-GoqJob ./does-not-exist -ArgumentList @() | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Failed'
        $job.ExitCode | Should -BeNullOrEmpty
        $job.Reason | Should -BeLike "cannot start './does-not-exist'*"
        Get-Content $job.OutputPath | Should -BeLike "goq: cannot start './does-not-exist'*"
        $missing = Submit-GoqJob no-such-program-anywhere -ArgumentList 'x' | Wait-GoqJob -Timeout 30
        $missing.Reason | Should -BeLike '*no such program*'
        (Submit-GoqJob 'echo after' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed'
    }

    It 'fails a job whose working directory does not exist, with a warning at submit' {
        $gone = Join-Path $work 'no-such-dir'
        $warnings = $null
        $job = Submit-GoqJob 'echo never' -WorkingDirectory $gone -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -HaveCount 1
        $done = Wait-GoqJob $job.Id -Timeout 30
        $done.State | Should -Be 'Failed'
        $done.Reason | Should -BeLike "*working directory '$gone' does not exist*"
        (Submit-GoqJob 'echo after' | Wait-GoqJob -Timeout 30).State | Should -Be 'Completed'
    }

    It 'submits one job per script file from the pipeline' {
        $scripts = Join-Path $work 'scripts'
        New-Item -ItemType Directory $scripts | Out-Null
        1..5 | ForEach-Object { Set-Content -Path (Join-Path $scripts "s$_.sh") -Value "echo script $_" }
        $jobs = Get-ChildItem (Join-Path $scripts '*.sh') | Submit-GoqJob
        $jobs | Should -HaveCount 5
        $jobs.Kind | Sort-Object -Unique | Should -Be 'Script'
        $done = $jobs | Wait-GoqJob -Timeout 60
        $done.State | Sort-Object -Unique | Should -Be 'Completed'
        $jobs | ForEach-Object { Receive-GoqJob $_.Id } | Sort-Object | Should -Be (1..5 | ForEach-Object { "script $_" })
    }

    It 'runs a command on each file or string piped, as its last and exact argument (xargs style)' {
        $inputs = Join-Path $work 'xargs'
        New-Item -ItemType Directory $inputs | Out-Null
        $names = 'plain.txt', 'a b;rm x.txt', "it's `$HOME.txt"
        foreach ($name in $names) { Set-Content -LiteralPath (Join-Path $inputs $name) -Value $name }
        $jobs = Get-ChildItem -LiteralPath $inputs | Submit-GoqJob printf -ArgumentList '[%s]\n'
        $jobs | Should -HaveCount 3
        $jobs.Kind | Sort-Object -Unique | Should -Be 'Exec'
        (Wait-GoqJob $jobs.Id -Timeout 60).State | Sort-Object -Unique | Should -Be 'Completed'
        $paths = Get-ChildItem -LiteralPath $inputs | ForEach-Object FullName
        $jobs | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be ($paths | ForEach-Object { "[$_]" })

        # A program by name with no -ArgumentList: each string is its one argument; a script file likewise.
        $words = 'two  spaces', '; exit 9', '*' | Submit-GoqJob printf
        Set-Content -Path (Join-Path $work 'args.sh') -Value 'for a in "$@"; do echo "<$a>"; done'
        $viaScript = Get-ChildItem -LiteralPath $inputs -Filter 'a b*' | Submit-GoqJob -LiteralPath ./args.sh -ArgumentList first
        $viaScript.Kind | Should -Be 'Script'
        (Wait-GoqJob (@($words.Id) + $viaScript.Id) -Timeout 60).State | Sort-Object -Unique | Should -Be 'Completed'
        $words | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be @('two  spaces', '; exit 9', '*')
        Receive-GoqJob $viaScript.Id | Should -Be @('<first>', "<$(Join-Path $inputs 'a b;rm x.txt')>")
    }

    It 'refuses an object that is not text or a file as a command''s argument, and the other records go on' {
        $jobs = 'kept', (Get-GoqServer), 'also kept' | Submit-GoqJob printf -ErrorVariable errs -ErrorAction SilentlyContinue
        $jobs | Should -HaveCount 2
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'GoqInvalidJobSpec*'
        "$errs" | Should -BeLike '*is not an argument*'
    }

    It 'runs a .ps1 script in PowerShell, as a script block' {
        Set-Content -Path (Join-Path $work 'hello.ps1') -Value 'param($Who) "hello from pwsh, $Who"'
        $job = Submit-GoqJob -LiteralPath (Join-Path $work 'hello.ps1') -ArgumentList 'Goq' | Wait-GoqJob -Timeout 60
        $job.Kind | Should -Be 'ScriptBlock'
        $job.State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'hello from pwsh, Goq'
    }

    It 'submits many command lines from one pipeline in batches, with consecutive ids' {
        $jobs = 1..300 | ForEach-Object { "exit 0" } | Submit-GoqJob -Name 'bulk'
        $jobs | Should -HaveCount 300
        ($jobs[-1].Id - $jobs[0].Id) | Should -Be 299
        $done = $jobs | Wait-GoqJob -Timeout 120
        $done | Should -HaveCount 300
        (Get-GoqJob -Name 'bul?' -State Completed) | Should -HaveCount 300
    }

    It 'runs in the current location by default and passes the environment, but never GOQ_* settings' {
        $env:GOQ_TEST_SECRET = 'must-not-leak'
        $env:MY_GOQ_TEST_VAR = 'from-submitter'
        try {
            $job = Submit-GoqJob 'echo "$PWD|$MY_GOQ_TEST_VAR|$EXPLICIT|${GOQ_TEST_SECRET:-unset}|${GOQ_HOME:-unset}"' -Environment @{ EXPLICIT = 'yes' }
        } finally {
            Remove-Item Env:GOQ_TEST_SECRET, Env:MY_GOQ_TEST_VAR
        }
        $job.WorkingDirectory | Should -Be $work
        Wait-GoqJob $job.Id -Timeout 30 | Out-Null
        Receive-GoqJob $job.Id | Should -Be "$work|from-submitter|yes|unset|unset"
    }

    It 'takes the current location, -WorkingDirectory and -Home through a PowerShell drive as file-system paths' {
        $null = New-PSDrive -Name GoqWork -PSProvider FileSystem -Root $goqHome
        try {
            Push-Location 'GoqWork:/work'
            try {
                $here = Submit-GoqJob 'pwd' -Home 'GoqWork:/'
                $there = Submit-GoqJob 'pwd' -WorkingDirectory 'GoqWork:/.goq' -Home '../'
            } finally {
                Pop-Location
            }
        } finally {
            Remove-PSDrive GoqWork
        }
        $here.WorkingDirectory | Should -Be $work
        $there.WorkingDirectory | Should -Be (Join-Path $goqHome '.goq')
        Wait-GoqJob $here.Id, $there.Id -Timeout 30 | Out-Null
        Receive-GoqJob $here.Id | Should -Be $work
    }

    It 'rejects an empty command' {
        { Submit-GoqJob '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
    }
}

Describe 'Submit-GoqJob with no server to answer it' {
    BeforeAll {
        $bare = New-GoqTestHome # no server started
        # Submits in a runspace of its own, so the test's deadline, not the submit, says how long is too long.
        function Invoke-Submit([string] $GoqHome) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; try { Submit-GoqJob -Home '$GoqHome' 'true' } catch { `$_ }")
                $async = $ps.BeginInvoke()
                Wait-Until { $async.IsCompleted } -TimeoutSec 40 -Because 'the submit to give up well before GOQ_SUBMIT_RETRY_SEC (120 s)'
                $out = @($ps.EndInvoke($async))
                $out | Should -HaveCount 1
                $out[0] | Should -BeOfType ([System.Management.Automation.ErrorRecord])
                [pscustomobject]@{ Error = $out[0] }
            }
            finally { $ps.Stop(); $ps.Dispose() }
        }
    }
    AfterAll { Remove-GoqTestHome $bare }
    BeforeEach { $env:GOQ_SUBMIT_RETRY_SEC = '120' }
    AfterEach { $env:GOQ_SUBMIT_RETRY_SEC = $null; $env:GOQ_CONNECT_TIMEOUT_SEC = $null; $env:GOQ_JSERV_PORT = $null }

    It 'says at once that no server runs for a local home, as Get-GoqJob does' {
        $env:GOQ_CONNECT_TIMEOUT_SEC = '120'
        $result = Invoke-Submit $bare
        $result.Error.FullyQualifiedErrorId | Should -BeLike 'GoqServerNotRunning,*'
        $result.Error.CategoryInfo.Category | Should -Be 'ConnectionError'
        $result.Error.Exception.Message | Should -BeLike "no Goq server runs for home*nothing listens on*"
        $getErr = { Get-GoqJob -Home $bare } | Should -Throw -PassThru
        $getErr.FullyQualifiedErrorId.Split(',')[0] | Should -Be $result.Error.FullyQualifiedErrorId.Split(',')[0]
    }

    It 'fails a first contact that gets no answer after GOQ_CONNECT_TIMEOUT_SEC, and says so, instead of retrying' {
        # A port that accepts connections but never speaks, as a remote server that does not answer.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $env:GOQ_CONNECT_TIMEOUT_SEC = '2'
            $env:GOQ_JSERV_PORT = "$($listener.LocalEndpoint.Port)"
            $result = Invoke-Submit $bare
        }
        finally { $listener.Stop() }
        $result.Error.FullyQualifiedErrorId | Should -BeLike 'GoqServerUnreachable,*'
        $result.Error.Exception.Message | Should -BeLike '*did not answer within 2 s (GOQ_CONNECT_TIMEOUT_SEC)*'
        $result.Error.Exception.Message | Should -BeLike '*may be queued all the same: look with Get-GoqJob before submitting them again*'
    }
}

Describe 'Submit-GoqJob stopped by Ctrl+C' {
    BeforeAll {
        # A server of its own, without workers: the jobs stay queued, and their ids are 1 to NextJobId - 1.
        $stopHome = New-GoqTestHome
        $null = Start-GoqServer -Home $stopHome
    }
    AfterAll { Remove-GoqTestHome $stopHome }

    It 'writes every job the server queued, or names in a warning those it could not write' {
        # A pwsh that submits a long pipeline and prints each job's id; SIGINT is what Ctrl+C sends it.
        $out = Join-Path $stopHome 'stopped.out'
        $command = "Import-Module '$RepoRoot/module/Goq.psd1'; 1..100000 | ForEach-Object { 'true tag-' + `$_ } | Submit-GoqJob -Home '$stopHome' | ForEach-Object Id"
        # Through env --default-signal=INT: a test run started in the background of a script (as CI may start it) has
        # SIGINT ignored, and the child would inherit that; a terminal's pwsh, which this stands for, never has.
        $child = Start-Process -FilePath /usr/bin/env -ArgumentList '--default-signal=INT', (Join-Path $PSHOME 'pwsh'), '-NoProfile', '-NonInteractive', '-Command', $command `
            -RedirectStandardOutput $out -RedirectStandardError (Join-Path $stopHome 'stopped.err') -PassThru
        try {
            Wait-Until { (Test-Path $out) -and @(Get-Content $out).Count -ge 3000 } -TimeoutSec 120 -Because 'three batches to be written'
            & kill -INT $child.Id
            Wait-Until { $child.HasExited } -TimeoutSec 30 -Because 'the stopped pwsh to end'
        } finally {
            if (-not $child.HasExited) { $child.Kill() }
        }

        $lines = Get-Content $out | ForEach-Object { $_ -replace '\e\[[0-9;]*m' } # the host colours its warnings
        $written = @($lines | Where-Object { $_ -match '^\d+$' } | ForEach-Object { [long] $_ })
        $warnings = @($lines | Where-Object { $_ -like 'WARNING: stopped:*' })
        $written.Count | Should -BeLessThan 100000 -Because 'the pipeline was stopped before its end'
        $named = @($warnings | Where-Object { $_ -like '*ids *' } | ForEach-Object {
                foreach ($range in ($_ -replace '^.*ids ', '') -split ', ') {
                    $from, $to = $range -split '-'
                    if (-not $to) { $to = $from }
                    [long] $from..[long] $to
                }
            })
        $queued = (Get-GoqServer -Home $stopHome).NextJobId - 1
        # A job whose WriteObject the stop cut short may have been written too: the warning says so, naming it first.
        $both = @($named | Where-Object { $_ -in $written })
        if ($both) { $warnings -like "*job $($both[0]) perhaps was*" | Should -Not -BeNullOrEmpty; $both | Should -HaveCount 1 }
        $all = @($written) + ($named | Where-Object { $_ -notin $both }) | Sort-Object
        $all.Count | Should -Be $queued -Because "the client wrote $($written.Count) jobs and named $($named.Count) ($($lines -notmatch '^\d+$')) of the $queued the server queued"
        $all | Should -Be (1..$queued) -Because 'each queued job is written or named once'
    }
}
