# The package as a user gets it: packed by tools/New-GoqPackage.ps1 (what ./build.ps1 -Task Package runs), installed
# by Install-PSResource from a local repository folder into a user module path of its own, imported in a fresh pwsh
# that has never seen this checkout, and used to run a job.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Sandbox = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-pkg-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $script:UserHome = Join-Path $Sandbox 'home'     # HOME of the fresh pwsh: its user module path and PSResourceGet's files
    $script:Repo = Join-Path $Sandbox 'repo'
    $script:GoqHome = Join-Path $Sandbox 'goq'
    New-Item -ItemType Directory -Path $UserHome, $Repo, $GoqHome | Out-Null
    $script:Pwsh = Join-Path $PSHOME 'pwsh'

    # A fresh pwsh with HOME in the sandbox and no module path, XDG folder or Goq setting inherited from this one.
    function Invoke-Sandboxed([string] $Script) {
        $file = Join-Path $Sandbox "step-$([guid]::NewGuid().ToString('N').Substring(0, 6)).ps1"
        Set-Content -Path $file -Value $Script
        $psi = [System.Diagnostics.ProcessStartInfo]::new($Pwsh)
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['HOME'] = $UserHome
        foreach ($name in @($psi.Environment.Keys | Where-Object { $_ -like 'XDG_*' -or $_ -like 'GOQ_*' -or $_ -eq 'PSModulePath' })) {
            $null = $psi.Environment.Remove($name)
        }
        $p = [System.Diagnostics.Process]::Start($psi)
        $stderr = $p.StandardError.ReadToEndAsync()
        $stdout = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(180000)) { $p.Kill($true); throw "the sandboxed pwsh did not finish within 180 s" }
        [pscustomobject]@{ ExitCode = $p.ExitCode; Out = $stdout; Err = $stderr.Result }
    }
}

AfterAll {
    $null = Stop-GoqHomeProcess $GoqHome -GraceSec 5
    Remove-Item -Recurse -Force $Sandbox -ErrorAction SilentlyContinue
}

Describe 'The Goq package' {
    It 'is made from the built module' {
        $pack = & $Pwsh -NoProfile -NonInteractive -File (Join-Path $RepoRoot 'tools/New-GoqPackage.ps1') -ModuleDir (Join-Path $RepoRoot 'module') -OutDir $Repo 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($pack | Out-String)
        $version = (Import-PowerShellDataFile (Join-Path $RepoRoot 'module/Goq.psd1')).ModuleVersion
        Join-Path $Repo "Goq.$version.nupkg" | Should -Exist
    }

    It 'installs with Install-PSResource from a local repository folder' {
        $r = Invoke-Sandboxed @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name GoqLocal -Uri '$Repo' -Trusted
Install-PSResource -Name Goq -Repository GoqLocal -Scope CurrentUser -TrustRepository -Quiet
(Get-InstalledPSResource -Name Goq).InstalledLocation
"@
        $r.ExitCode | Should -Be 0 -Because $r.Err
        $r.Out.Trim() | Should -BeLike "$UserHome*"
        Join-Path $UserHome '.local/share/powershell/Modules/Goq' | Should -Exist
    }

    It 'imports in a fresh pwsh, has its help, and runs a job' {
        $port = Get-FreePort
        $r = Invoke-Sandboxed @"
`$ErrorActionPreference = 'Stop'
Import-Module Goq
`$result = [ordered]@{ ModuleBase = (Get-Module Goq).ModuleBase; Synopsis = (Get-Help Submit-GoqJob).Synopsis }
Initialize-GoqHome -Path '$GoqHome' -Port $port | Out-Null
`$env:GOQ_HOME = '$GoqHome'
try {
    Start-GoqServer | Out-Null
    Start-GoqWorker -Slots 1 | Out-Null
    `$job = Submit-GoqJob { [pscustomobject]@{ Answer = 6 * 7 } } | Wait-GoqJob -Timeout 120
    `$result.State = [string]`$job.State
    `$result.Answer = (Receive-GoqJob `$job).Answer
}
finally {
    Get-GoqWorker | Stop-GoqWorker -Force -ErrorAction SilentlyContinue
    Stop-GoqServer -Confirm:`$false -ErrorAction SilentlyContinue
}
`$result | ConvertTo-Json -Compress
"@
        $r.ExitCode | Should -Be 0 -Because $r.Err
        $result = $r.Out.Trim() -split "`n" | Select-Object -Last 1 | ConvertFrom-Json
        $result.ModuleBase | Should -BeLike "$UserHome*"
        $result.Synopsis | Should -BeLike 'Queues jobs*'
        $result.State | Should -Be 'Completed'
        $result.Answer | Should -Be 42
    }
}
