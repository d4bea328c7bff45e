# Clients belong to runspaces: one per runspace, closed with it, so many runspaces leave nothing behind.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    function Get-ClientThreadCount {
        @(Get-ChildItem /proc/self/task -Directory | Where-Object { (Get-Content -Raw -ErrorAction SilentlyContinue (Join-Path $_.FullName 'comm')) -eq "goq-client`n" }).Count
    }
    function Get-SocketCount {
        @(Get-ChildItem /proc/self/fd -ErrorAction SilentlyContinue | Where-Object { "$($_.LinkTarget)" -like 'socket:*' }).Count
    }
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Clients and runspaces' {
    It 'leaves no client threads or sockets behind after ForEach-Object -Parallel with 50 runspaces' -Skip:(-not $IsLinux) {
        $null = Get-GoqJob # this runspace's own client, kept
        $threads = Get-ClientThreadCount
        $sockets = Get-SocketCount
        $module = Join-Path $RepoRoot 'module/Goq.psd1'
        $counts = 1..50 | ForEach-Object -Parallel {
            Import-Module $using:module
            @(Get-GoqJob -Home $using:goqHome).Count
        } -ThrottleLimit 10 -UseNewRunspace
        $counts.Count | Should -Be 50
        Wait-Until { (Get-ClientThreadCount) -le $threads } -TimeoutSec 20 -Because "the runspaces' clients to be closed ($(Get-ClientThreadCount) client threads, $threads before)"
        Wait-Until { (Get-SocketCount) -le $sockets + 2 } -TimeoutSec 20 -Because "their sockets to be closed ($(Get-SocketCount) sockets, $sockets before)"
        (Get-GoqServer).Workers | Should -Be 0 -Because 'this runspace''s client still works'
    }
}
