BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }

Describe 'Start-GoqServer, Get-GoqServer, Stop-GoqServer' {
    BeforeAll { $goqHome = New-GoqTestHome }
    AfterAll { Remove-GoqTestHome $goqHome }

    It 'starts a detached server that answers, and reports its status' {
        $server = Start-GoqServer -Home $goqHome
        $server | Should -BeOfType ([Goq.ServerInfo])
        $server.Pid | Should -BeGreaterThan 0
        Test-ProcessAlive $server.Pid | Should -BeTrue

        $status = Get-GoqServer -Home $goqHome
        $status | Should -BeOfType ([Goq.ServerStatus])
        $status.ServerPid | Should -Be $server.Pid
        $status.Endpoint | Should -Be $server.Endpoint
        $status.NextJobId | Should -Be 1
        $status.WaitingJobs | Should -Be 0
        $status.WaitingWorkers | Should -Be 0
        $status.Version | Should -Not -BeNullOrEmpty
    }

    It 'adds uptime, the store''s size and path and the log''s path with -Detailed, and only then' {
        (Get-GoqServer -Home $goqHome).Uptime | Should -BeNullOrEmpty
        $null = Submit-GoqJob -Home $goqHome 'echo kept' -Hold
        $detailed = Get-GoqServer -Home $goqHome -Detailed
        $detailed.Uptime | Should -BeGreaterThan ([TimeSpan]::Zero)
        $detailed.Uptime | Should -BeLessThan ([DateTimeOffset]::UtcNow - $detailed.StartedAt + [TimeSpan]::FromSeconds(5))
        $detailed.StorePath | Should -Be (Join-Path $goqHome '.goq/goq.db')
        $onDisk = Get-Item "$($detailed.StorePath)*" | Where-Object Name -Match '^goq\.db(-wal|-shm)?$' | Measure-Object Length -Sum
        $detailed.StoreBytes | Should -BeGreaterThan 0
        $detailed.StoreBytes | Should -BeLessOrEqual ($onDisk.Sum * 2) -Because 'it is the size of those files (the WAL may have grown since)'
        $detailed.LogPath | Should -Be (Join-Path $goqHome '.goq/server.log')
        Test-Path $detailed.LogPath | Should -BeTrue
        ($detailed | Format-List | Out-String) | Should -Match 'StoreMB'
    }

    It 'reports the version the module manifest gives, the one place it is kept' {
        (Get-GoqServer -Home $goqHome).Version | Should -Be "$((Import-PowerShellDataFile (Join-Path $RepoRoot 'module/Goq.psd1')).ModuleVersion)"
        (Get-GoqServer -Home $goqHome).Version | Should -Be "$((Get-Module Goq).Version)"
    }

    It 'refuses a second server on the same home, naming the running pid' {
        $running = (Get-GoqServer -Home $goqHome).ServerPid
        $err = { Start-GoqServer -Home $goqHome } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqServerAlreadyRunning,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -BeLike "*pid $running*"
    }

    It 'stops gracefully and returns once the process has exited' {
        $serverPid = (Get-GoqServer -Home $goqHome).ServerPid
        Stop-GoqServer -Confirm:$false -Home $goqHome
        Test-ProcessAlive $serverPid | Should -BeFalse
    }

    It 'says at once, with a ConnectionError, that no server runs for a local home' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $err = { Get-GoqServer -Home $goqHome } | Should -Throw -PassThru
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1 -Because 'nothing listens on the port: no time-out to wait for'
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqServerNotRunning,*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*Start-GoqServer*'
    }

    It 'waits GOQ_CONNECT_TIMEOUT_SEC for a server that does not answer, then says so' {
        # A port that accepts connections but never speaks: the request waits for its time-out.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $env:GOQ_CONNECT_TIMEOUT_SEC = '1'
        $env:GOQ_JSERV_PORT = "$($listener.LocalEndpoint.Port)"
        try {
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $err = { Get-GoqJob -Home $goqHome -ErrorAction Stop } | Should -Throw -PassThru
            $elapsed = $watch.Elapsed.TotalSeconds
        }
        finally { $env:GOQ_CONNECT_TIMEOUT_SEC = $null; $env:GOQ_JSERV_PORT = $null; $listener.Stop() }
        $err.FullyQualifiedErrorId | Should -BeLike 'GoqServerUnreachable,*'
        $elapsed | Should -BeLessThan 4
        $elapsed | Should -BeGreaterThan 0.9
    }

    It 'stops waiting for a server that does not answer on Ctrl+C' {
        # A port that accepts connections but never speaks, and a request time-out far longer than the test.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $env:GOQ_CONNECT_TIMEOUT_SEC = '3600'
        $env:GOQ_JSERV_PORT = "$($listener.LocalEndpoint.Port)"
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Stop-GoqServer -Home '$goqHome' -Confirm:`$false")
            $null = $ps.BeginInvoke()
            Wait-Until { $listener.Pending() } -Because 'Stop-GoqServer to connect and wait for its answer'
            Stop-PowerShellWithin $ps | Should -BeTrue -Because 'Ctrl+C ends the wait, not the request time-out'
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose(); $env:GOQ_CONNECT_TIMEOUT_SEC = $null; $env:GOQ_JSERV_PORT = $null; $listener.Stop() }
    }

    It 'fails clearly when the port is taken' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $err = { Start-GoqServer -Home $goqHome -Port $listener.LocalEndpoint.Port } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqPortInUse,*'
            $err.Exception.Message | Should -BeLike '*already in use*'
        } finally { $listener.Stop() }
    }

    It 'fails clearly on a home that was never initialized' {
        $bare = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bare-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $bare | Out-Null
        try {
            $err = { Start-GoqServer -Home $bare } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqHomeNotInitialized,*'
            $err.Exception.Message | Should -BeLike '*Initialize-GoqHome*'
        } finally { Remove-Item -Recurse -Force $bare }
    }

    It 'runs in the foreground with -Wait and stops on Ctrl+C, freeing the port' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Start-GoqServer -Home '$goqHome' -Wait")
        $async = $ps.BeginInvoke()
        try {
            Wait-Until { try { (Get-GoqServer -Home $goqHome).ServerPid -eq $PID } catch { $false } } -Because 'the in-process server to answer'
            $ps.Stop()
            $async.IsCompleted | Should -BeTrue
            $port = (Get-Content -Raw (Join-Path $goqHome '.goq/config.json') | ConvertFrom-Json).Port
            $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $port)
            $probe.Start(); $probe.Stop()
        } finally { $ps.Dispose() }
    }
}

Describe 'A home whose server was killed' {
    # A server killed -9 leaves .goq/server.pid behind. In a home that cannot be written (a read-only mount, files
    # made immutable), the lock cannot be opened to probe it: the pid file alone must not make a dead server "running".
    It 'does not call a dead server running when its lock and pid files cannot be written' {
        if ((& id -u) -ne '0' -or -not (Get-Command chattr -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'making files immutable (chattr +i) needs root and chattr'; return
        }
        $goqHome = New-GoqTestHome
        $frozen = @((Join-Path $goqHome '.goq/server.lock'), (Join-Path $goqHome '.goq/server.pid'))
        try {
            $dead = (Start-GoqServer -Home $goqHome).Pid
            Stop-Process -Id $dead -Force # SIGKILL: no clean-up, the pid file stays
            Wait-Until { -not (Test-ProcessAlive $dead) } -Because 'the killed server to be gone'
            & chattr +i @frozen
            $LASTEXITCODE | Should -Be 0

            $err = { Start-GoqServer -Home $goqHome } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Not -BeLike 'GoqServerAlreadyRunning,*'
            $err.Exception.Message | Should -Not -BeLike "*pid $dead*"
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqServerStartFailed,*' -Because 'the new server cannot take the lock of a read-only home'
            $err.Exception.Message | Should -BeLike '*server.lock*'
            { Get-GoqServer -Home $goqHome } | Should -Throw -ErrorId 'GoqServerNotRunning,Goq.Cmdlets.Commands.GetGoqServerCommand'
        } finally {
            & chattr -i @frozen 2>$null
            Remove-GoqTestHome $goqHome
        }
    }
}

Describe 'The job database' {
    It 'refuses to start on a corrupt database instead of silently starting empty' {
        $goqHome = New-GoqTestHome
        try {
            $db = Join-Path $goqHome '.goq/goq.db'
            Set-Content -Path $db -Value ('definitely not sqlite ' * 500)
            $err = { Start-GoqServer -Home $goqHome } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqStoreUnusable,*'
            $err.Exception.Message | Should -BeLike "*$db*"
            (Get-Content -Raw $db) | Should -BeLike 'definitely not sqlite*'
        } finally { Remove-GoqTestHome $goqHome }
    }

    It 'keeps NextJobId across restarts' {
        $goqHome = New-GoqTestHome
        try {
            Start-GoqServer -Home $goqHome | Out-Null
            (Submit-GoqJob -Home $goqHome 'true' -WorkingDirectory $goqHome).Id | Should -Be 1
            (Get-GoqServer -Home $goqHome).NextJobId | Should -Be 2
            Stop-GoqServer -Confirm:$false -Home $goqHome
            Start-GoqServer -Home $goqHome | Out-Null
            (Get-GoqServer -Home $goqHome).NextJobId | Should -Be 2
            (Get-GoqJob -Home $goqHome -Id 1).State | Should -Be 'Waiting'
        } finally { Remove-GoqTestHome $goqHome }
    }
}
