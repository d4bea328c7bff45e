# The throw-away PostgreSQL instances the PostgreSQL store's tests run on (tools/TestPostgres.ps1): made, reachable with
# their password only, and gone after. Skipped with the reason where PostgreSQL cannot be had.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $RepoRoot 'tools/TestPostgres.ps1')
    $script:Pg = Start-GoqTestPostgres
}
AfterAll { Stop-GoqTestPostgres $Pg }

Describe 'A throw-away PostgreSQL instance' {
    BeforeEach { if ($Pg -is [string]) { Set-ItResult -Skipped -Because $Pg } }

    It 'serves SQL on its own port with its password, and refuses a wrong one' {
        Invoke-GoqTestPostgresSql $Pg 'select 40 + 2' | Should -Be '42'
        Invoke-GoqTestPostgresSql $Pg 'show fsync' | Should -Be 'on'
        $wrong = $Pg.PSObject.Copy()
        $wrong.Password = 'not-' + $Pg.Password
        (Invoke-GoqTestPostgresSql $wrong 'select 1') -join ' ' | Should -Match 'password authentication failed'
    }

    It 'stops and leaves nothing behind' {
        $second = Start-GoqTestPostgres
        $second | Should -Not -BeOfType [string]
        $second.Port | Should -Not -Be $Pg.Port
        Invoke-GoqTestPostgresSql $second 'select 1' | Should -Be '1'
        $postmaster = [int](Get-Content (Join-Path $second.Data 'postmaster.pid') -TotalCount 1)
        Stop-GoqTestPostgres $second
        $second.Dir | Should -Not -Exist
        # Gone, or a zombie until whoever adopted it reaps it: not running either way.
        $state = (Get-Content "/proc/$postmaster/stat" -ErrorAction SilentlyContinue) -replace '^\d+ \(.*\) (\S) .*$', '$1'
        $state | Should -BeIn @($null, '', 'Z', 'X')
        (Invoke-GoqTestPostgresSql $second 'select 1') -join ' ' | Should -Match 'connection|Connection' -Because 'nothing serves its port'
        Invoke-GoqTestPostgresSql $Pg 'select 1' | Should -Be '1' -Because 'the other instance goes on'
    }
}
