# Script-block jobs: PowerShell that runs on a worker in a fresh runspace of a warm runner, and gives back objects.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 2

    # Receives a job's records into one object: output, and each stream's records.
    function Receive-All([long] $Id) {
        $out = Receive-GoqJob $Id -ErrorVariable errs -WarningVariable warns -InformationVariable infos -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -InformationAction SilentlyContinue
        [pscustomobject]@{ Output = @($out); Errors = @($errs); Warnings = @($warns); Information = @($infos) }
    }
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Submit-GoqJob -ScriptBlock' {
    It 'refuses a record whose argument is nested too deeply to be read back, naming it and its depth, and submits the others' {
        # Such a job used to run with the argument $null and end Completed; Start-Job refuses the same argument.
        $deep = 1
        foreach ($i in 1..60) { $deep = @{ n = $deep } }
        $jobs = @(@('shallow', $deep, 'also shallow') | Submit-GoqJob { "got $_" } -ErrorVariable refused -ErrorAction SilentlyContinue)
        $jobs | Should -HaveCount 2
        $refused | Should -HaveCount 1
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'GoqArgumentNotSerializable,*'
        $refused[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$($refused[0])" | Should -BeLike '*the input object (System.Collections.Hashtable, nested 60 levels deep) cannot be carried to the job*'
        $refused[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        ($jobs | Wait-GoqJob -Timeout 60).State | Should -Be 'Completed', 'Completed'
        $jobs | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be 'got shallow', 'got also shallow'

        Submit-GoqJob { param($x) $x } -ArgumentList $deep -ErrorVariable alone -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        "$($alone[0])" | Should -BeLike '*argument 1 (System.Collections.Hashtable, nested 60 levels deep)*'
    }

    It 'binds a script block positionally and runs it as a ScriptBlock job' {
        $job = Submit-GoqJob { 'hello from ' + $PSVersionTable.PSEdition }
        $job.Kind | Should -Be 'ScriptBlock'
        (Wait-GoqJob $job.Id -Timeout 60).State | Should -Be 'Completed'
        Receive-GoqJob $job.Id | Should -Be 'hello from Core'
        Submit-GoqJob 'echo a string still binds to -Command' | Select-Object -ExpandProperty Kind | Should -Be 'Shell'
    }

    It 'round-trips objects with their properties, deserialized as Invoke-Command gives them' {
        $job = Submit-GoqJob {
            [pscustomobject]@{ Name = 'one'; Count = 3 }
            [datetime]::new(2026, 12, 2, 10, 30, 0, [DateTimeKind]::Utc)
            , @(1, 2, 3)
            @{ key = 'value'; n = 5 }
            [pscustomobject]@{ Outer = @{ Inner = [pscustomobject]@{ Leaf = 'deep' } } }
        } | Wait-GoqJob -Timeout 60
        $job.State | Should -Be 'Completed'
        $out = @(Receive-GoqJob $job.Id)
        $out.Count | Should -Be 5
        $out[0].Name | Should -Be 'one'
        $out[0].Count | Should -Be 3
        $out[0].pstypenames[0] | Should -Be 'Deserialized.System.Management.Automation.PSCustomObject'
        $out[0].PSComputerName | Should -Be ([Environment]::MachineName)
        $out[0].GoqJobId | Should -Be $job.Id
        $out[1] | Should -BeOfType [datetime]
        $out[1].ToUniversalTime() | Should -Be ([datetime]::new(2026, 12, 2, 10, 30, 0, [DateTimeKind]::Utc))
        @($out[2]) | Should -Be @(1, 2, 3)
        $out[3].key | Should -Be 'value'
        $out[3].n | Should -Be 5
        $out[4].Outer.Inner.Leaf | Should -Be 'deep' -Because 'property bags and hashtables are kept whole, as remoting keeps them'
    }

    It 'cuts .NET objects at depth 2 by default and deeper with -SerializationDepth' {
        $chain = {
            class GoqNode { [string] $Name; [object] $Child; [string] ToString() { return 'node ' + $this.Name } }
            [GoqNode]@{ Name = 'a'; Child = [GoqNode]@{ Name = 'b'; Child = [GoqNode]@{ Name = 'c'; Child = [GoqNode]@{ Name = 'd' } } } }
        }
        $two = Submit-GoqJob $chain | Wait-GoqJob -Timeout 60 | ForEach-Object { Receive-GoqJob $_.Id }
        $two.Child.Name | Should -Be 'b'
        $two.Child.Child | Should -Be 'node c' -Because 'the third level is its string form at depth 2'
        $three = Submit-GoqJob $chain -SerializationDepth 3 | Wait-GoqJob -Timeout 60 | ForEach-Object { Receive-GoqJob $_.Id }
        $three.Child.Child.Name | Should -Be 'c'
        $three.Child.Child.Child | Should -Be 'node d'
    }

    It 'gives every stream its own records, in order, with the error id and category kept' {
        $job = Submit-GoqJob {
            Write-Warning 'careful'
            Write-Error 'oops' -ErrorId 'My.Error' -Category InvalidData
            Write-Information 'for your information' -Tags 'tag1'
            Write-Host 'from write-host'
            $VerbosePreference = 'Continue'; Write-Verbose 'talking'
            $DebugPreference = 'Continue'; Write-Debug 'bug hunt'
            'result'
        } | Wait-GoqJob -Timeout 60
        $job.State | Should -Be 'Completed' -Because 'a non-terminating error does not fail the job (as with Start-Job)'
        $all = Receive-All $job.Id
        $all.Output | Should -Be 'result'
        $all.Warnings.Message | Should -Be 'careful'
        $all.Errors.Count | Should -Be 1
        $all.Errors[0].FullyQualifiedErrorId | Should -BeLike 'My.Error*'
        $all.Errors[0].FullyQualifiedErrorId | Should -Not -BeLike '*Receive-GoqJob*'
        $all.Errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $all.Errors[0].Exception.Message | Should -Be 'oops'
        $all.Information.MessageData | ForEach-Object { "$_" } | Should -Be @('for your information', 'from write-host')
        $all.Information[0].Tags | Should -Contain 'tag1'
        $quiet = @{ ErrorAction = 'SilentlyContinue'; WarningAction = 'SilentlyContinue'; InformationAction = 'SilentlyContinue' }
        $verbose = Receive-GoqJob $job.Id @quiet -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $verbose.Message | Should -Be 'talking'
        # (-Debug would make the other streams ask for confirmation in a non-interactive host: the preference is set instead.)
        $debug = & { $DebugPreference = 'Continue'; Receive-GoqJob $job.Id @quiet 5>&1 } | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }
        $debug.Message | Should -Be 'bug hunt'
    }

    It 'takes $using: values from the caller and binds -ArgumentList to param()' {
        $greeting = 'hi'; $list = @(1, 2)
        $job = Submit-GoqJob { param($a, $b) "$using:greeting $a $b $($using:list.Count)" } -ArgumentList 'x', 7 | Wait-GoqJob -Timeout 60
        Receive-GoqJob $job.Id | Should -Be 'hi x 7 2'
    }

    It 'refuses a $using: variable that does not exist, naming it, and queues nothing' {
        $before = (Get-GoqServer).NextJobId
        { Submit-GoqJob { $using:noSuchVariable } } | Should -Throw -ErrorId 'GoqUsingVariableNotFound*' -ExpectedMessage '*noSuchVariable*'
        (Get-GoqServer).NextJobId | Should -Be $before
    }

    It 'makes one job per pipeline record, with $_ and $input bound to it' {
        $jobs = 1..6 | Submit-GoqJob -ScriptBlock { [pscustomobject]@{ Under = $_ * 2; Input = @($input)[0] } }
        $jobs.Count | Should -Be 6
        $done = Wait-GoqJob $jobs.Id -Timeout 60
        $done.State | Sort-Object -Unique | Should -Be 'Completed'
        $out = $jobs | ForEach-Object { Receive-GoqJob $_.Id }
        $out.Under | Should -Be @(2, 4, 6, 8, 10, 12)
        $out.Input | Should -Be @(1, 2, 3, 4, 5, 6)
    }

    It 'binds a positional script block with pipeline input: numbers, files and objects (as ForEach-Object -Parallel)' {
        $numbers = 1..3 | Submit-GoqJob { $_ * 2 }
        $numbers.Kind | Sort-Object -Unique | Should -Be 'ScriptBlock'
        $folder = New-Item -ItemType Directory (Join-Path $goqHome 'positional')
        'one', 'two' | ForEach-Object { Set-Content -Path (Join-Path $folder "$_.txt") -Value $_ }
        $files = Get-ChildItem (Join-Path $folder '*.txt') | Submit-GoqJob { "$($_.Name):$(Get-Content -LiteralPath $_.FullName)" }
        $objects = [pscustomobject]@{ Name = 'a'; N = 1 }, [pscustomobject]@{ Name = 'b'; N = 2 } | Submit-GoqJob { "$($_.Name)=$($_.N + 1)" } -Name positional
        $all = @($numbers) + $files + $objects
        $all | Should -HaveCount 7
        (Wait-GoqJob $all.Id -Timeout 60).State | Sort-Object -Unique | Should -Be 'Completed'
        $numbers | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be @(2, 4, 6)
        $files | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be @('one.txt:one', 'two.txt:two')
        $objects | ForEach-Object { Receive-GoqJob $_.Id } | Should -Be @('a=2', 'b=3')
    }

    It 'runs each job in a fresh runspace, in the submitter''s directory' {
        $first = Submit-GoqJob { $global:leaked = 'yes'; function global:Leaky { 'leak' }; Set-Alias lk Leaky -Scope Global; function Local { }; 'first' } | Wait-GoqJob -Timeout 60
        $first.State | Should -Be 'Completed'
        # Both slots' runners run a job, so whichever runner the first used has run another job since.
        $probe = 1..4 | Submit-GoqJob -ScriptBlock { "$global:leaked|$([bool](Get-Command Leaky -ErrorAction Ignore))|$((Get-Location).Path)|$PWD|$((Get-Item .).FullName)|$([IO.Directory]::GetCurrentDirectory())" } | Wait-GoqJob -Timeout 60
        $probe | ForEach-Object { Receive-GoqJob $_.Id } | Sort-Object -Unique | Should -Be "|False|$goqHome|$goqHome|$goqHome|$goqHome"
    }

    It 'writes readable text to the output file' {
        $job = Submit-GoqJob { [pscustomobject]@{ Alpha = 1; Beta = 'two' }; Write-Warning 'warned' } | Wait-GoqJob -Timeout 60
        $text = Get-Content -Raw $job.OutputPath
        $text | Should -Match 'Alpha\s+Beta'
        $text | Should -Match '1\s+two'
        $text | Should -Match 'WARNING: warned'
    }
}

Describe 'How a script-block job ends' {
    It 'fails with the message of a terminating error and writes the error' {
        $job = Submit-GoqJob { 'before'; throw 'it broke' } | Wait-GoqJob -Timeout 60
        $job.State | Should -Be 'Failed'
        $job.Reason | Should -Be 'it broke'
        $all = Receive-All $job.Id
        $all.Output | Should -Be 'before'
        $all.Errors[0].Exception.Message | Should -Be 'it broke'
        $job = Submit-GoqJob { Get-Item /no/such/path -ErrorAction Stop } | Wait-GoqJob -Timeout 60
        $job.State | Should -Be 'Failed'
        $job.Reason | Should -BeLike '*/no/such/path*'
    }

    It 'ends with the exit code of exit N and of [Environment]::Exit(N), and the next job runs' {
        $exit = Submit-GoqJob { 'x'; exit 3 } | Wait-GoqJob -Timeout 60
        $exit.State | Should -Be 'Failed'
        $exit.ExitCode | Should -Be 3
        $zero = Submit-GoqJob { exit 0 } | Wait-GoqJob -Timeout 60
        $zero.State | Should -Be 'Completed'
        $hard = Submit-GoqJob { [Environment]::Exit(4) } | Wait-GoqJob -Timeout 60
        $hard.State | Should -Be 'Failed'
        $hard.ExitCode | Should -Be 4
        $next = Submit-GoqJob { 'still fine' } | Wait-GoqJob -Timeout 60
        $next.State | Should -Be 'Completed'
        Receive-GoqJob $next.Id | Should -Be 'still fine'
    }

    It 'fails a job whose runner is killed, with a reason saying so, and keeps the worker' {
        $job = Submit-GoqJob { Start-Sleep 60 }
        Wait-Until { (Get-GoqJob $job.Id).Pid } -Because 'the job to start'
        $runner = (Get-GoqJob $job.Id).Pid
        Stop-Process -Id $runner -Force
        $done = Wait-GoqJob $job.Id -Timeout 30
        $done.State | Should -Be 'Failed'
        $done.Reason | Should -BeLike '*PowerShell runner*died*signal 9*'
        (Get-GoqWorker).Id | Should -Be $worker.Id
        (Submit-GoqJob { 'after the crash' } | Wait-GoqJob -Timeout 60 | ForEach-Object { Receive-GoqJob $_.Id }) | Should -Be 'after the crash'
    }

    It 'stops a running script-block job, with what it started' {
        # How long the stop takes is measured by the bench (bench/Bench.ps1, -ScriptStops), not asserted here.
        $job = Submit-GoqJob { sleep 300.25 }
        Wait-Until { (Get-GoqJob $job.Id).State -eq 'Running' -and (Get-GoqHomeProcess 'sleep 300.25') } -Because 'the job and its child to run'
        Stop-GoqJob $job.Id | Out-Null
        $done = Wait-GoqJob $job.Id -Timeout 10
        $done.State | Should -Be 'Cancelled'
        Wait-Until { -not (Get-GoqHomeProcess 'sleep 300.25') } -TimeoutSec 5 -Because 'the child to be killed with the runner'
    }

    It 'fails a job past -TimeoutSec' {
        $job = Submit-GoqJob { Start-Sleep 30 } -TimeoutSec 1 | Wait-GoqJob -Timeout 30
        $job.State | Should -Be 'Failed'
        $job.Reason | Should -BeLike 'timed out after 1 s*'
    }

    It 'returns an object the serializer cannot take as its string form, with a warning' {
        $job = Submit-GoqJob {
            Add-Type -TypeDefinition 'public class GoqBadProperty { public string Fine { get { return "ok"; } } public string Bad { get { throw new System.Exception("no"); } } public override string ToString() { return "bad-object"; } }'
            [GoqBadProperty]::new()
        } | Wait-GoqJob -Timeout 60
        $job.State | Should -Be 'Completed'
        $all = Receive-All $job.Id
        $all.Output.Count | Should -Be 1
        $all.Output[0].Fine | Should -Be 'ok' -Because 'a property that throws is skipped, the rest is kept'
    }
}

Describe 'A script-block job''s output limit' {
    BeforeAll {
        Get-GoqWorker | Stop-GoqWorker -Drain | Out-Null
        $env:GOQ_MAX_JOB_RECORD_MIB = '1'
        try { $limited = Start-GoqWorker -Slots 1 } finally { $env:GOQ_MAX_JOB_RECORD_MIB = $null }
    }

    It 'fails a job past the limit with a reason naming it, keeps what came before, and the next job runs' {
        $job = Submit-GoqJob { 'first'; foreach ($i in 1..100000) { 'x' * 100 } } | Wait-GoqJob -Timeout 120
        $job.State | Should -Be 'Failed'
        $job.Reason | Should -BeLike '*limit of 1,048,576 bytes of serialized objects*'
        $out = @(Receive-GoqJob $job.Id -ErrorAction SilentlyContinue)
        $out[0] | Should -Be 'first'
        $out.Count | Should -BeLessThan 100000
        (Get-Item ($job.OutputPath + '.records')).Length | Should -BeLessThan 2MB
        (Submit-GoqJob { 'next' } | Wait-GoqJob -Timeout 60 | ForEach-Object { Receive-GoqJob $_.Id }) | Should -Be 'next'
    }
}

Describe 'Recycling a worker''s warm runners' {
    BeforeAll {
        # Runs script-block jobs one after another on a one-slot worker and gives the pid of the runner that ran each.
        function Get-RunnerPids([int] $Count) {
            foreach ($i in 1..$Count) {
                $job = Submit-GoqJob { $PID } | Wait-GoqJob -Timeout 120
                $job.State | Should -Be 'Completed'
                $job.Pid | Should -Be (Receive-GoqJob $job.Id) -Because 'a script-block job''s Pid is its runner''s'
                $job.Pid
            }
        }
    }
    BeforeEach { Get-GoqWorker | Stop-GoqWorker -Drain | Out-Null }

    It 'replaces a runner after GOQ_RUNNER_MAX_JOBS jobs' {
        $env:GOQ_RUNNER_MAX_JOBS = '2'
        try { $null = Start-GoqWorker -Slots 1 } finally { $env:GOQ_RUNNER_MAX_JOBS = $null }
        $pids = @(Get-RunnerPids 5)
        $pids[1] | Should -Be $pids[0]
        $pids[2] | Should -Not -BeIn $pids[0..1]
        $pids[3] | Should -Be $pids[2]
        $pids[4] | Should -Not -BeIn $pids[0..3]
    }

    It 'replaces a runner whose memory is above GOQ_RUNNER_MAX_MEMORY_MIB after its job' {
        $env:GOQ_RUNNER_MAX_MEMORY_MIB = '1' # every runner is above it
        try { $null = Start-GoqWorker -Slots 1 } finally { $env:GOQ_RUNNER_MAX_MEMORY_MIB = $null }
        $pids = @(Get-RunnerPids 3)
        ($pids | Select-Object -Unique).Count | Should -Be 3
    }
}

Describe 'PowerShell script files (.ps1) run as script blocks, as Start-Job -FilePath runs them' {
    BeforeAll {
        $scripts = Join-Path $goqHome 'ps1'
        New-Item -ItemType Directory $scripts | Out-Null
        # Typed values, $using: from the submitter, param() from -ArgumentList, and an error on the error stream.
        Set-Content -Path (Join-Path $scripts 'measure.ps1') -Value @'
param([int] $Count, [string] $Label = 'none')
Write-Error "measured $Label" -ErrorId 'Measure.Note'
[pscustomobject]@{ Label = $Label; Twice = $Count * 2; Unit = $using:unit; When = [datetime]::new(2026, 1, 2) }
'@
    }

    It 'submits a .ps1 by -LiteralPath as a script-block job: objects back, param() bound, $using: taken at submit' {
        $unit = 'ms'
        $job = Submit-GoqJob -LiteralPath (Join-Path $scripts 'measure.ps1') -ArgumentList 21, 'first'
        $job.Kind | Should -Be 'ScriptBlock'
        $job.Name | Should -Be 'measure.ps1'
        $unit = 'changed after submit'
        (Wait-GoqJob $job.Id -Timeout 60).State | Should -Be 'Completed'
        $all = Receive-All $job.Id
        $all.Output | Should -HaveCount 1
        $all.Output[0].Twice | Should -BeOfType [int]
        $all.Output[0].Twice | Should -Be 42
        $all.Output[0].Label | Should -Be 'first'
        $all.Output[0].Unit | Should -Be 'ms'
        $all.Output[0].When | Should -BeOfType [datetime]
        $all.Errors | Should -HaveCount 1
        $all.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Measure.Note*'
        $all.Errors[0].Exception.Message | Should -Be 'measured first'
    }

    It 'submits piped .ps1 files the same way, and Receive-Job gives the objects of an -AsJob submit' {
        $unit = 's'
        Copy-Item (Join-Path $scripts 'measure.ps1') (Join-Path $scripts 'again.ps1')
        $jobs = Get-ChildItem (Join-Path $scripts '*.ps1') | Submit-GoqJob -ArgumentList 5 -AsJob
        $jobs | Should -HaveCount 2
        $out = $jobs | Wait-Job -Timeout 60 | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable errs
        $out | Should -HaveCount 2
        $out.Twice | Should -Be @(10, 10)
        $out.Unit | Should -Be @('s', 's')
        $out.Label | Should -Be @('none', 'none')
        $errs | Should -HaveCount 2
        $jobs | Remove-Job
    }

    It 'refuses a .ps1 whose $using: variable does not exist, or that does not parse, and queues nothing for it' {
        Set-Content -Path (Join-Path $scripts 'broken.ps1') -Value 'if ('
        $before = (Get-GoqServer).NextJobId
        Remove-Variable unit -ErrorAction Ignore
        $null = Submit-GoqJob -LiteralPath (Join-Path $scripts 'measure.ps1') -ErrorVariable missing -ErrorAction SilentlyContinue
        $missing.FullyQualifiedErrorId | Should -BeLike 'GoqUsingVariableNotFound*'
        "$missing" | Should -BeLike '*$using:unit*'
        $null = Submit-GoqJob -LiteralPath (Join-Path $scripts 'broken.ps1') -ErrorVariable broken -ErrorAction SilentlyContinue
        $broken.FullyQualifiedErrorId | Should -BeLike 'GoqInvalidJobSpec*'
        $broken[0].CategoryInfo.Category | Should -Be 'ParserError'
        (Get-GoqServer).NextJobId | Should -Be $before
    }
}
