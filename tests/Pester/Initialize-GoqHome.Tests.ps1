BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }

Describe 'Initialize-GoqHome' {
    BeforeEach {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-init-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    }
    AfterEach { Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue }

    It 'creates .goq with a config and returns a Goq.HomeInfo' {
        $info = Initialize-GoqHome -Path $dir -Port 2776 -ServerHost 127.0.0.1
        $info | Should -BeOfType ([Goq.HomeInfo])
        $info.Path | Should -Be $dir
        $info.ConfigPath | Should -Be (Join-Path $dir '.goq/config.json')
        $info.Endpoint | Should -Be 'tcp://127.0.0.1:2776'
        (Get-Content -Raw $info.ConfigPath | ConvertFrom-Json).Port | Should -Be 2776
    }

    It 'makes .goq private (0700) and its files 0600, keys included' -Skip:$IsWindows {
        $info = Initialize-GoqHome -Path $dir
        (Get-Item -Force (Join-Path $dir '.goq')).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        foreach ($file in $info.ConfigPath, (Join-Path $dir '.goq/cluster.secret'), (Join-Path $dir '.goq/server.secret'), (Join-Path $dir '.goq/server.public')) {
            (Get-Item -Force $file).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite') -Because $file
        }
    }

    It 'creates a 32-byte cluster secret and a server key pair, different for every home' {
        $info = Initialize-GoqHome -Path $dir
        $secret = (Get-Content (Join-Path $dir '.goq/cluster.secret')).Trim()
        $secret | Should -Match '^[0-9a-f]{64}$'
        (Get-Content (Join-Path $dir '.goq/server.public')).Trim() | Should -Be $info.ServerPublicKey
        $info.ServerPublicKey | Should -Match '^[0-9a-f]{64}$'
        $other = "$dir-other"
        try {
            $otherInfo = Initialize-GoqHome -Path $other
            (Get-Content (Join-Path $other '.goq/cluster.secret')).Trim() | Should -Not -Be $secret
            $otherInfo.ServerPublicKey | Should -Not -Be $info.ServerPublicKey
        } finally { Remove-Item -Recurse -Force $other -ErrorAction SilentlyContinue }
    }

    It 'refuses to overwrite an existing home or its keys without -Force' {
        Initialize-GoqHome -Path $dir -Port 3000 | Out-Null
        $secret = Get-Content -Raw (Join-Path $dir '.goq/cluster.secret')
        { Initialize-GoqHome -Path $dir -Port 4000 } | Should -Throw -ErrorId 'GoqHomeAlreadyInitialized,Goq.Cmdlets.Commands.InitializeGoqHomeCommand'
        Remove-Item (Join-Path $dir '.goq/config.json')
        { Initialize-GoqHome -Path $dir -Port 4000 } | Should -Throw -ErrorId 'GoqHomeAlreadyInitialized,Goq.Cmdlets.Commands.InitializeGoqHomeCommand'
        Get-Content -Raw (Join-Path $dir '.goq/cluster.secret') | Should -Be $secret

        (Initialize-GoqHome -Path $dir -Port 4000 -Force -Confirm:$false).Endpoint | Should -Be 'tcp://127.0.0.1:4000'
        Get-Content -Raw (Join-Path $dir '.goq/cluster.secret') | Should -Not -Be $secret
    }

    It 'uses $env:GOQ_HOME when no path is given' {
        $saved = $env:GOQ_HOME
        try {
            $env:GOQ_HOME = $dir
            (Initialize-GoqHome).Path | Should -Be $dir
        } finally { $env:GOQ_HOME = $saved }
    }

    It 'rejects a port out of range' {
        { Initialize-GoqHome -Path $dir -Port 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.InitializeGoqHomeCommand'
    }
}
