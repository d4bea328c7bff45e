# The runner's runspaces (Goq.Runner, loaded here as a worker's runner loads it): a runspace is used again only when
# its job left nothing behind that ResetRunspaceState would not undo.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $assembly = [System.Reflection.Assembly]::LoadFrom((Join-Path $RepoRoot 'module/bin/Goq.Runner.dll'))
    $script:SourceType = $assembly.GetType('Goq.Runner.RunspaceSource', $true)
    Set-Content -Path (Join-Path ([IO.Path]::GetTempPath()) 'goq-leak-module.psm1') -Value 'function Get-GoqLeak { "leak" }'

    # Runs a script in the lent runspace as a job does (in a scope of its own) and gives the runspace back.
    function Invoke-Leased($Source, [string] $Script, [bool] $Completed = $true) {
        $lease = $Source.Take()
        $shell = [powershell]::Create()
        try {
            $shell.Runspace = $lease.Runspace
            $out = $shell.AddScript($Script, $true).Invoke()
        }
        finally { $shell.Dispose() }
        $Source.Return($lease, $Completed)
        [pscustomobject]@{ Runspace = $lease.Runspace; Output = $out }
    }
}

Describe 'A runner''s runspaces' {
    It 'reuses the runspace of a job that left nothing behind, with its variables reset' {
        $source = [Activator]::CreateInstance($SourceType)
        $first = Invoke-Leased $source '$global:kept = 1; function Local { }; $x = 2; "one"'
        $second = Invoke-Leased $source '"$global:kept|$x|$([bool](Get-Command Local -ErrorAction Ignore))"'
        $source.Reused | Should -Be 2
        $source.Opened | Should -Be 1
        $second.Runspace | Should -Be $first.Runspace
        $second.Output | Should -Be '||False'
    }

    It 'opens a fresh runspace after a job that <Why>' -ForEach @(
        @{ Why = 'defined a global function'; Script = 'function global:Leak { }' }
        @{ Why = 'redefined an existing function'; Script = 'function global:prompt { "leak> " }' }
        @{ Why = 'set a global alias'; Script = 'Set-Alias -Name lk -Value Get-Date -Scope Global' }
        @{ Why = 'imported a module'; Script = 'Import-Module (Join-Path ([IO.Path]::GetTempPath()) "goq-leak-module.psm1")' }
        @{ Why = 'added a drive'; Script = 'New-PSDrive -Name LeakDrive -PSProvider FileSystem -Root / -Scope Global | Out-Null' }
        @{ Why = 'changed the language mode'; Script = '$ExecutionContext.SessionState.LanguageMode = "ConstrainedLanguage"' }
        @{ Why = 'did not complete'; Script = '"fine"'; Completed = $false }
    ) {
        $source = [Activator]::CreateInstance($SourceType)
        $first = Invoke-Leased $source $Script ($null -eq $Completed -or $Completed)
        $next = Invoke-Leased $source '"probe"'
        $source.Reused | Should -Be 1 -Because 'only the probe job''s runspace, which it left clean, is kept'
        $source.Opened | Should -Be 2
        $next.Runspace | Should -Not -Be $first.Runspace
    }
}
