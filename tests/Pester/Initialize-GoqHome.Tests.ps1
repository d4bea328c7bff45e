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

    It 'makes .goq private (0700) and its files 0600' -Skip:$IsWindows {
        $info = Initialize-GoqHome -Path $dir
        (Get-Item -Force (Join-Path $dir '.goq')).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        (Get-Item -Force $info.ConfigPath).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
    }

    It 'refuses to overwrite an existing home without -Force' {
        Initialize-GoqHome -Path $dir -Port 3000 | Out-Null
        { Initialize-GoqHome -Path $dir -Port 4000 } | Should -Throw -ErrorId 'GoqHomeAlreadyInitialized,Goq.Cmdlets.Commands.InitializeGoqHomeCommand'
        (Initialize-GoqHome -Path $dir -Port 4000 -Force).Endpoint | Should -Be 'tcp://127.0.0.1:4000'
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
