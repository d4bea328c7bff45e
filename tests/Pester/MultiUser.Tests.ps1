# A multi-user cluster with real Linux users (made here with useradd, removed after): their keys, who owns what, what
# runs as whom, and what is refused. Needs root (CI runs as root); elsewhere every test skips with the reason.
BeforeDiscovery {
    $script:NotRoot = if ($IsLinux -and (& id -u) -eq '0' -and (Get-Command useradd -ErrorAction SilentlyContinue) -and (Test-Path /usr/bin/setpriv)) { $null }
    else { 'needs root on Linux with useradd and setpriv (util-linux) to make throw-away users and run jobs as them' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($NotRoot) { return }
    $script:Suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
    $script:Alice = "goqa$Suffix"; $script:Bob = "goqb$Suffix"; $script:Olga = "goqo$Suffix"
    foreach ($user in $Alice, $Bob, $Olga) {
        & useradd -m -s /bin/bash $user 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "useradd $user failed" }
    }
    $script:AliceHome = (& getent passwd $Alice).Split(':')[5]
    $script:BobHome = (& getent passwd $Bob).Split(':')[5]
    $script:OlgaHome = (& getent passwd $Olga).Split(':')[5]

    $script:ServerHome = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-mu-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    New-Item -ItemType Directory $ServerHome | Out-Null
    Initialize-GoqHome -Path $ServerHome -Port (Get-FreePort) -MultiUser | Out-Null
    Start-GoqServer -Home $ServerHome | Out-Null
    Start-GoqWorker -Home $ServerHome -Slots 2 | Out-Null
    Grant-GoqUser -Home $ServerHome -User $Alice | Out-Null
    Grant-GoqUser -Home $ServerHome -User $Bob | Out-Null
    Grant-GoqUser -Home $ServerHome -User $Olga -Role Operator | Out-Null

    # A job of a user's, submitted with their key (their home), from a folder of theirs.
    function Submit-As([string] $UserHome, [string] $Command, [hashtable] $More = @{}) {
        Submit-GoqJob -Home $UserHome $Command -WorkingDirectory $UserHome @More
    }
}

AfterAll {
    if ($NotRoot) { return }
    Remove-GoqTestHome $ServerHome
    foreach ($user in $Alice, $Bob, $Olga) {
        & pkill -KILL -u $user 2>&1 | Out-Null
        & userdel -r $user 2>&1 | Out-Null
    }
}

Describe 'A multi-user cluster' {
    BeforeEach { if ($NotRoot) { Set-ItResult -Skipped -Because $NotRoot } }

    It 'writes a user''s client home, theirs and private, with their key and never the cluster secret' {
        $dot = Join-Path $AliceHome '.goq'
        (& stat -c '%U %a' $dot) | Should -Be "$Alice 700"
        foreach ($file in 'config.json', 'server.public', 'user.key') {
            (& stat -c '%U %G %a' (Join-Path $dot $file)) | Should -Be "$Alice $Alice 600"
        }
        Join-Path $dot 'cluster.secret' | Should -Not -Exist
        (Get-Content (Join-Path $dot 'user.key') -Raw) | Should -Not -Match (Get-Content (Join-Path $ServerHome '.goq/cluster.secret') -Raw).Trim()
        $users = Get-GoqUser -Home $ServerHome
        ($users | Where-Object Name -EQ $Alice).Role | Should -Be 'User'
        ($users | Where-Object Name -EQ $Olga).Role | Should -Be 'Operator'
        ($users | Where-Object Name -EQ $Alice).KeyId | Should -Match '^[0-9a-f]{16}$'
        (Get-GoqServer -Home $ServerHome).MultiUser | Should -BeTrue
    }

    It 'runs a user''s job as them, with their HOME, and makes its output file theirs' {
        $job = Submit-As $AliceHome 'id -un; echo "$HOME"; echo "$USER"; pwd; id -G'
        $job.Owner | Should -Be $Alice
        $job.SubmittedBy | Should -Be $Alice
        $done = $job | Wait-GoqJob -Home $AliceHome -Timeout 60
        $done.State | Should -Be 'Completed'
        @(Receive-GoqJob -Home $AliceHome -Id $job.Id) | Should -Be @($Alice, $AliceHome, $Alice, $AliceHome, (& id -G $Alice))
        (& stat -c '%U %G' $done.OutputPath) | Should -Be "$Alice $Alice"
        (& stat -c '%U' (Split-Path $done.OutputPath)) | Should -Be $Alice
    }

    It 'keeps a job''s loader variables (LD_*) away from the root part of its start, and gives them to the job' {
        # LD_DEBUG makes the loader of every program that gets it say which libraries it loads: setpriv's own library
        # (libcap-ng) would show if the variable reached setpriv, which starts as root.
        $job = Submit-As $AliceHome '/bin/true; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"' @{ Environment = @{ LD_DEBUG = 'libs'; LD_LIBRARY_PATH = '/opt/alice/lib' } }
        (Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60).State | Should -Be 'Completed'
        $out = @(Receive-GoqJob -Home $AliceHome -Id $job.Id -ErrorAction Continue 2>&1 | ForEach-Object { "$_" })
        $out | Should -Contain 'LD_LIBRARY_PATH=/opt/alice/lib'
        ($out | Where-Object { $_ -match 'find library=libc\.so' }) | Should -Not -BeNullOrEmpty -Because 'the job''s programs got LD_DEBUG'
        ($out | Where-Object { $_ -match 'libcap-ng' }) | Should -BeNullOrEmpty -Because 'setpriv, run as root, never did'
    }

    It 'lets another user list a job, and refuses them stopping, removing, reading or changing it, counted and logged' {
        $job = Submit-As $AliceHome 'sleep 300'
        Wait-Until { (Get-GoqJob -Home $AliceHome -Id $job.Id).State -eq 'Running' } -TimeoutSec 30 -Because 'the job to start'
        (Get-GoqJob -Home $BobHome -Id $job.Id).Owner | Should -Be $Alice
        $before = (Get-GoqServer -Home $ServerHome).DeniedRequests
        $refused = @(
            { Stop-GoqJob -Home $BobHome -Id $job.Id }
            { Remove-GoqJob -Home $BobHome -Id $job.Id -Force }
            { Receive-GoqJob -Home $BobHome -Id $job.Id }
            { Set-GoqJob -Home $BobHome -Id $job.Id -Priority 5 }
            { Suspend-GoqJob -Home $BobHome -Id $job.Id }
            { Resume-GoqJob -Home $BobHome -Id $job.Id }
            { Restart-GoqJob -Home $BobHome -Id $job.Id }
        )
        foreach ($attempt in $refused) {
            $err = $null
            try { & $attempt -ErrorAction Stop } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty -Because "$attempt is refused"
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqAccessDenied,*'
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err.Exception.Message | Should -Match "$Bob \(User\) may not .*job $($job.Id), owned by $Alice; only its owner, an Operator or an Admin may"
            $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        }
        (Get-GoqJob -Home $AliceHome -Id $job.Id).State | Should -Be 'Running'
        (Get-GoqServer -Home $ServerHome).DeniedRequests | Should -BeGreaterOrEqual ($before + $refused.Count)
        $logged = @(Get-GoqLogEntry $ServerHome -Event security.denied | Where-Object { $_.user -eq $Bob -and $_.jobId -eq $job.Id })
        $logged.action | Should -Contain 'stop'
        $logged.action | Should -Contain 'read the output of'

        # An Operator may: Olga stops it.
        Stop-GoqJob -Home $OlgaHome -Id $job.Id
        (Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 30).State | Should -Be 'Cancelled'
    }

    It 'checks a task of another user''s array by its array''s owner, made yet or not' {
        $array = Submit-As $AliceHome 'true' @{ ArrayIndex = 1..50; Hold = $true }
        $task = $array.Id + 40
        $err = $null
        try { Stop-GoqJob -Home $BobHome -Id $task -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqAccessDenied,*'
        $err.Exception.Message | Should -Match "job $task, owned by $Alice"
        Stop-GoqJob -Home $AliceHome -Id $array.Id
    }

    It 'never waits on a FIFO put where a job''s output file goes: the job ends and the server answers' {
        $next = (Get-GoqServer -Home $ServerHome).NextJobId
        $fifo = Join-Path $AliceHome ('o/out.{0:D5}' -f $next)
        & setpriv --reuid=$Alice --regid=$Alice --init-groups -- /bin/sh -c "mkdir -p '$AliceHome/o' && mkfifo '$fifo'"
        try {
            $job = Submit-As $AliceHome 'echo around'
            $job.Id | Should -Be $next
            (Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60).State | Should -Be 'Completed'
            Receive-GoqJob -Home $AliceHome -Id $job.Id -ViaServer | Should -Be 'around'
            (Get-GoqServer -Home $ServerHome).MultiUser | Should -BeTrue -Because 'the server still answers'
        }
        finally { Remove-Item -Force $fifo -ErrorAction SilentlyContinue }
    }

    It 'refuses a user what only an Admin may do, and lets the cluster secret''s holder do it' {
        foreach ($attempt in @({ Set-GoqQueue -Home $BobHome -Name q1 -ThrottleLimit 1 }, { Stop-GoqServer -Home $BobHome -Confirm:$false },
                { Grant-GoqUser -Home $BobHome -User $Bob -Role Admin -OutFile (Join-Path $BobHome 'x.zip') }, { Set-GoqUser -Home $OlgaHome -User $Bob -Role Admin })) {
            $err = $null
            try { & $attempt -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqAccessDenied,*' -Because "$attempt is an Admin's"
            $err.Exception.Message | Should -Match 'only an Admin may'
        }
        (Get-GoqServer -Home $ServerHome) | Should -Not -BeNullOrEmpty -Because 'the server still runs'
        (Set-GoqQueue -Home $ServerHome -Name q1 -ThrottleLimit 1).ThrottleLimit | Should -Be 1
    }

    It 'refuses a message that names one user''s key but is signed with another''s, and a home with no key' {
        $forged = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-forged-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory (Join-Path $forged '.goq') | Out-Null
        try {
            Copy-Item (Join-Path $BobHome '.goq/config.json'), (Join-Path $BobHome '.goq/server.public') (Join-Path $forged '.goq')
            $aliceKey = (Get-Content (Join-Path $AliceHome '.goq/user.key')).Split(' ')
            $bobKey = (Get-Content (Join-Path $BobHome '.goq/user.key')).Split(' ')
            # Alice's name and key id, Bob's key.
            Set-Content (Join-Path $forged '.goq/user.key') "$($aliceKey[0]) $Alice $($aliceKey[2]) $($bobKey[3])"
            $before = (Get-GoqServer -Home $ServerHome).DroppedBadSignatures
            $err = $null
            try { Submit-GoqJob -Home $forged 'echo forged' -WorkingDirectory $forged -ErrorAction Stop -WarningAction SilentlyContinue } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqCredentialsRejected,*'
            $err.Exception.Message | Should -Match 'user key .* is not one it gave'
            (Get-GoqServer -Home $ServerHome).DroppedBadSignatures | Should -BeGreaterThan $before

            # Bob's key id and key under Alice's name: the server goes by the key, so it is Bob's.
            Set-Content (Join-Path $forged '.goq/user.key') "$($bobKey[0]) $Alice $($bobKey[2]) $($bobKey[3])"
            (Submit-GoqJob -Home $forged 'true' -WorkingDirectory $BobHome -Hold).Owner | Should -Be $Bob

            # No key at all.
            Remove-Item (Join-Path $forged '.goq/user.key')
            { Get-GoqJob -Home $forged } | Should -Throw -ErrorId 'GoqCredentialsMissing,Goq.Cmdlets.Commands.GetGoqJobCommand'
        }
        finally { Remove-Item -Recurse -Force $forged }
        (Get-GoqJob -Home $ServerHome | Where-Object Command -EQ 'echo forged') | Should -BeNullOrEmpty
    }

    It 'reads a job''s output through the server with its owner''s rights: a link the owner puts in its place gives them nothing more' {
        $secret = Join-Path '/root' ('goq-secret-' + $Suffix)
        Set-Content $secret 'top secret'
        & chmod 600 $secret
        try {
            $job = Submit-As $AliceHome 'echo mine'
            $done = Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60
            Receive-GoqJob -Home $AliceHome -Id $job.Id -ViaServer | Should -Be 'mine'
            & setpriv --reuid=$Alice --regid=$Alice --init-groups -- /bin/sh -c "rm -f '$($done.OutputPath)' && ln -s '$secret' '$($done.OutputPath)'"
            $text = @(Receive-GoqJob -Home $AliceHome -Id $job.Id -ViaServer -ErrorAction SilentlyContinue) -join "`n"
            $text | Should -Not -Match 'top secret'
            $bytes = @(Receive-GoqJob -Home $AliceHome -Id $job.Id -ViaServer -AsByteStream -ErrorAction SilentlyContinue)
            [System.Text.Encoding]::UTF8.GetString([byte[]]$bytes) | Should -Not -Match 'top secret'
        }
        finally { Remove-Item -Force $secret }
    }

    It 'writes a job''s output to the server''s own folder when the owner put a link where its file goes, and the job ends' {
        $next = (Get-GoqServer -Home $ServerHome).NextJobId
        $planted = Join-Path $AliceHome ('o/out.{0:D5}' -f $next)
        $target = Join-Path '/root' ('goq-planted-' + $Suffix)
        & setpriv --reuid=$Alice --regid=$Alice --init-groups -- /bin/sh -c "mkdir -p '$AliceHome/o' && ln -s '$target' '$planted'"
        try {
            $job = Submit-As $AliceHome 'echo elsewhere'
            $job.Id | Should -Be $next
            $done = Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60
            $done.State | Should -Be 'Completed'
            $target | Should -Not -Exist -Because 'nothing is created through the link'
            Receive-GoqJob -Home $AliceHome -Id $job.Id -ViaServer | Should -Be 'elsewhere'
            $done.OutputPath | Should -BeLike "$ServerHome*"
        }
        finally { Remove-Item -Force $planted, $target -ErrorAction SilentlyContinue }
    }

    It 'fails a job whose folder its owner may not enter, saying so, and runs nothing there' {
        $closed = Join-Path '/root' ('goq-closed-' + $Suffix)
        New-Item -ItemType Directory $closed | Out-Null
        & chmod 700 $closed
        try {
            $job = Submit-GoqJob -Home $AliceHome "touch '$closed/made'" -WorkingDirectory $closed -WarningAction SilentlyContinue
            $done = Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60
            $done.State | Should -Be 'Failed'
            $done.Reason | Should -Match "$Alice may not enter the working directory '$([regex]::Escape($closed))'"
            Join-Path $closed 'made' | Should -Not -Exist
        }
        finally { Remove-Item -Recurse -Force $closed }
    }

    It 'fails a job whose owner has no account on the worker''s host, saying so' {
        $ghost = "goqg$Suffix"
        $zip = Join-Path ([System.IO.Path]::GetTempPath()) "$ghost.zip"
        $ghostHome = Join-Path ([System.IO.Path]::GetTempPath()) "home-$ghost"
        try {
            Grant-GoqUser -Home $ServerHome -User $ghost -OutFile $zip | Out-Null
            Import-GoqHome -Path $zip -Home $ghostHome | Out-Null
            $job = Submit-GoqJob -Home $ghostHome 'echo never' -WorkingDirectory $ghostHome
            $done = Wait-GoqJob -Home $ghostHome -Id $job.Id -Timeout 60
            $done.State | Should -Be 'Failed'
            $done.Reason | Should -Match "the job's owner '$ghost' has no account on"
        }
        finally { Remove-Item -Recurse -Force $zip, $ghostHome -ErrorAction SilentlyContinue }
    }

    It 'refuses a job owned by root on a root worker, saying how to allow it' {
        $job = Submit-GoqJob -Home $ServerHome 'id -un' -WorkingDirectory $ServerHome
        $job.Owner | Should -Be 'root'
        $done = Wait-GoqJob -Home $ServerHome -Id $job.Id -Timeout 60
        $done.State | Should -Be 'Failed'
        $done.Reason | Should -Match 'does not run jobs as root \(uid 0\).*-AllowUser root'
    }

    It 'creates nothing where a job''s output folder is a link into a folder only root may enter' {
        $trap = Join-Path '/root' ('goq-trap-' + $Suffix)
        New-Item -ItemType Directory $trap | Out-Null
        & chmod 700 $trap
        $work = Join-Path $AliceHome 'trapped'
        & setpriv --reuid=$Alice --regid=$Alice --init-groups -- /bin/sh -c "mkdir '$work' && ln -s '$trap' '$work/o'"
        try {
            $job = Submit-GoqJob -Home $AliceHome 'echo safe' -WorkingDirectory $work
            $done = Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 60
            $done.State | Should -Be 'Completed'
            @(Get-ChildItem -Force $trap) | Should -BeNullOrEmpty -Because 'nothing is created through the link'
            Receive-GoqJob -Home $AliceHome -Id $job.Id | Should -Be 'safe'
            if ($done.OutputPath) {
                $done.OutputPath | Should -Not -BeLike "$trap*"
                (& stat -c '%U' $done.OutputPath) | Should -Be $Alice
            }
        }
        finally { Remove-Item -Recurse -Force $trap }
    }

    It 'hands a user''s own worker only their jobs, and it runs them as that user' {
        $queue = "own$Suffix"
        $worker = Start-GoqWorker -Home $AliceHome -Slots 1 -Queue $queue -NoJobKeeper
        try {
            $bobs = Submit-As $BobHome 'id -un' @{ Queue = $queue }
            $alices = Submit-As $AliceHome 'id -un' @{ Queue = $queue }
            (Wait-GoqJob -Home $AliceHome -Id $alices.Id -Timeout 60).State | Should -Be 'Completed'
            Receive-GoqJob -Home $AliceHome -Id $alices.Id | Should -Be $Alice
            (Get-GoqJob -Home $BobHome -Id $bobs.Id).State | Should -Be 'Waiting' -Because 'only Alice''s jobs go to her worker'
            Stop-GoqJob -Home $BobHome -Id $bobs.Id
        }
        finally { Stop-GoqWorker -Home $ServerHome -Id $worker.Id -ErrorAction SilentlyContinue }
    }

    It 'keeps a job running as its owner when its worker is restarted (the job keeper holds it)' {
        $worker = @(Get-GoqWorker -Home $ServerHome | Where-Object Queues -Contains 'default')[0]
        $job = Submit-As $AliceHome 'sleep 60'
        Wait-Until { (Get-GoqJob -Home $AliceHome -Id $job.Id).Pid } -TimeoutSec 30 -Because 'the job to start'
        $jobPid = (Get-GoqJob -Home $AliceHome -Id $job.Id).Pid
        (& ps -o user= -p $jobPid).Trim() | Should -Be $Alice
        Stop-GoqWorker -Home $ServerHome -Id $worker.Id -Restart | Out-Null
        Wait-Until { @(Get-GoqWorker -Home $ServerHome | Where-Object { $_.Id -eq $worker.Id -and $_.Pid -ne $worker.Pid }).Count -eq 1 } -TimeoutSec 60 -Because 'the worker to be back'
        (Get-GoqJob -Home $AliceHome -Id $job.Id).State | Should -Be 'Running'
        (& ps -o user= -p $jobPid).Trim() | Should -Be $Alice -Because 'the same process goes on, as its owner'
        Stop-GoqJob -Home $AliceHome -Id $job.Id
        (Wait-GoqJob -Home $AliceHome -Id $job.Id -Timeout 30).State | Should -Be 'Cancelled'
    }

    It 'lets a job depend on another user''s job, and lists in Get-Job only the session owner''s jobs' {
        $first = Submit-As $BobHome 'echo first'
        $second = Submit-As $AliceHome 'echo second' @{ DependsOn = $first.Id }
        (Wait-GoqJob -Home $AliceHome -Id $second.Id -Timeout 60).State | Should -Be 'Completed'
        $pwsh = Join-Path $PSHOME 'pwsh'
        $listed = { param($UserHome) & $pwsh -NoProfile -NonInteractive -Command ("Import-Module '$RepoRoot/module/Goq.psd1'; `$env:GOQ_HOME = '$UserHome'; " +
            "Get-Job | Where-Object PSJobTypeName -EQ 'GoqJob' | ForEach-Object GoqId") }
        $alices = @(& $listed $AliceHome)
        $alices | Should -Contain "$($second.Id)"
        $alices | Should -Not -Contain "$($first.Id)"
        @(& $listed $BobHome) | Should -Contain "$($first.Id)"
    }

    It 'keeps each user to their own jobs in the list when the cluster keeps jobs private' {
        $private = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-private-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $homes = @{}
        try {
            New-Item -ItemType Directory $private | Out-Null
            Initialize-GoqHome -Path $private -Port (Get-FreePort) -MultiUser -PrivateJobs | Out-Null
            Start-GoqServer -Home $private | Out-Null
            foreach ($user in $Alice, $Bob, $Olga) {
                # Archives this time (as for a laptop), imported into homes of their own.
                $zip = Join-Path $private "$user.zip"
                Grant-GoqUser -Home $private -User $user -Role $(if ($user -eq $Olga) { 'Operator' } else { 'User' }) -OutFile $zip | Out-Null
                $homes[$user] = Join-Path $private "home-$user"
                Import-GoqHome -Path $zip -Home $homes[$user] | Out-Null
                Join-Path $homes[$user] '.goq/cluster.secret' | Should -Not -Exist
            }
            $a = Submit-GoqJob -Home $homes[$Alice] 'true' -Hold -WorkingDirectory $AliceHome
            $b = Submit-GoqJob -Home $homes[$Bob] 'true' -Hold -WorkingDirectory $BobHome
            @(Get-GoqJob -Home $homes[$Alice]).Id | Should -Be @($a.Id)
            @(Get-GoqJob -Home $homes[$Bob]).Id | Should -Be @($b.Id)
            Get-GoqJob -Home $homes[$Bob] -Id $a.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'another user''s job is not listed, even by id'
            { Wait-GoqJob -Home $homes[$Bob] -Id $a.Id -Timeout 5 -ErrorAction Stop } | Should -Throw -ErrorId 'GoqJobNotFound,*' -Because 'nor can it be watched'
            @(Get-GoqJob -Home $homes[$Olga]).Id | Sort-Object | Should -Be (@($a.Id, $b.Id) | Sort-Object) -Because 'an Operator sees all'
        }
        finally { Remove-GoqTestHome $private }
    }

    It 'never runs two users'' script-block jobs in one runner: each owner''s runner is theirs' {
        # A multi-user cluster's hosts have PowerShell and the module where every user can read them; this machine's
        # test pwsh may not be (a NuGet cache under /root), so the worker runs from copies in a shared folder.
        $shared = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-shared-' + $Suffix)
        $queue = "sb$Suffix"
        $worker = $null
        try {
            New-Item -ItemType Directory $shared | Out-Null
            Copy-Item -Recurse $PSHOME (Join-Path $shared 'pwsh')
            Copy-Item -Recurse (Join-Path $RepoRoot 'module') (Join-Path $shared 'module')
            & chmod -R a+rX $shared
            $pwsh = Join-Path $shared 'pwsh/pwsh'
            $started = & $pwsh -NoProfile -NonInteractive -Command ("Import-Module '$shared/module/Goq.psd1'; " +
                "(Start-GoqWorker -Home '$ServerHome' -Slots 2 -Queue $queue -NoJobKeeper -ErrorAction Stop).Id")
            $worker = "$started".Trim()
            $block = { [pscustomobject]@{ Pid = $PID; User = [Environment]::UserName; Home = $HOME } }
            $jobs = @(Submit-GoqJob -Home $AliceHome -WorkingDirectory $AliceHome -Queue $queue $block
                Submit-GoqJob -Home $BobHome -WorkingDirectory $BobHome -Queue $queue $block
                Submit-GoqJob -Home $AliceHome -WorkingDirectory $AliceHome -Queue $queue $block)
            $out = foreach ($job in $jobs) {
                (Wait-GoqJob -Home $ServerHome -Id $job.Id -Timeout 120).State | Should -Be 'Completed'
                Receive-GoqJob -Home $ServerHome -Id $job.Id
            }
            $out.User | Should -Be @($Alice, $Bob, $Alice)
            $out.Home | Should -Be @($AliceHome, $BobHome, $AliceHome)
            $out[1].Pid | Should -Not -BeIn @($out[0].Pid, $out[2].Pid) -Because 'Bob''s job never runs in a runner of Alice''s'
            (& ps -o user= -p $out[0].Pid).Trim() | Should -Be $Alice -Because 'a runner kept for the next job is still its owner''s'
        }
        finally {
            if ($worker) { Stop-GoqWorker -Home $ServerHome -Id $worker -Force -ErrorAction SilentlyContinue | Out-Null }
            Remove-Item -Recurse -Force $shared -ErrorAction SilentlyContinue
        }
    }

    It 'refuses a revoked user from their next message on' {
        $last = Submit-As $BobHome 'true' @{ Hold = $true }
        $revoked = Revoke-GoqUser -Home $ServerHome -User $Bob -Confirm:$false
        $revoked.Revoked | Should -Not -BeNullOrEmpty
        $err = $null
        try { Get-GoqJob -Home $BobHome -Id $last.Id -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqCredentialRevoked,*'
        $err.Exception.Message | Should -Match "key of $Bob was revoked"
        (Get-GoqJob -Home $ServerHome -Id $last.Id).Owner | Should -Be $Bob -Because 'a revoked user''s jobs stay as they are'
    }
}
