BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Cmdlets = @(Get-Command -Module Goq -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters

    function Get-ShownParameter([string] $Name) {
        (Get-Command $Name).Parameters.Values | Where-Object {
            $_.Name -notin $Common -and -not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow })
        }
    }

    function Get-Text($Paras) { (@($Paras | ForEach-Object { $_.Text }) -join "`n").Trim() }
}

Describe 'Help of <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
    }

    It 'comes from the generated MAML, with a synopsis and a description' {
        # Help PowerShell makes up for a command without help has the syntax as its synopsis and no description.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match 'CommonParameters'
        Get-Text $help.description | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter a user can see, and no other' {
        $documented = @($help.parameters.parameter)
        foreach ($p in Get-ShownParameter $Name) {
            $entry = $documented | Where-Object name -EQ $p.Name
            $entry | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $Name needs help"
            Get-Text $entry.description | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $Name needs a description"
        }
        foreach ($d in $documented) {
            $d.name | Should -BeIn @((Get-ShownParameter $Name).Name) -Because "the help of $Name documents -$($d.name)"
        }
    }

    It 'has at least two examples, each of which parses and uses the cmdlet' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) {
            $tokens = $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput($e.code, [ref]$tokens, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "the example '$($e.title)' of $Name must parse"
            $e.code | Should -Match ([regex]::Escape($Name)) -Because "the example '$($e.title)' should show $Name"
        }
    }

    It 'names what it takes from the pipeline and what it returns' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        @($help.returnValues.returnValue).Count | Should -BeGreaterThan 0
    }
}

Describe 'about_Goq' {
    BeforeAll {
        $about = Get-Help about_Goq | Out-String
    }

    It 'is generated into the module' {
        Join-Path $RepoRoot 'module/en-US/about_Goq.help.txt' | Should -Exist
        Join-Path $RepoRoot 'module/en-US/Goq.dll-Help.xml' | Should -Exist
        $about | Should -Match 'SHORT DESCRIPTION'
    }

    It 'explains the roles, a cluster set-up and security' {
        foreach ($heading in 'Roles', 'A cluster', 'Security', 'Job kinds', 'Job states', 'Settings and environment variables') {
            $about | Should -Match "(?m)^$heading\s*$"
        }
        foreach ($word in 'server', 'worker', 'client', 'cluster.secret', 'CurveZMQ', 'HMAC') { $about | Should -Match ([regex]::Escape($word)) }
    }

    It 'names every job kind and job state' {
        foreach ($name in [enum]::GetNames([Goq.JobState]) + [enum]::GetNames([Goq.JobKind])) {
            $about | Should -Match "\b$name\b" -Because "about_Goq should explain $name"
        }
    }

    It 'documents every GOQ_ environment variable the engine reads or sets' {
        $names = Get-ChildItem (Join-Path $RepoRoot 'src') -Recurse -Filter *.cs |
            Select-String -Pattern 'GOQ_[A-Z_]+' -AllMatches -CaseSensitive | ForEach-Object { $_.Matches.Value } | Sort-Object -Unique
        $names.Count | Should -BeGreaterThan 10
        foreach ($n in $names) { $about | Should -Match "\b$n\b" -Because "about_Goq should document $n" }
    }
}

Describe 'The help generator' {
    It 'stops the build when a help file documents a parameter the cmdlet does not have' {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-help-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path (Join-Path $dir 'src') | Out-Null
        try {
            Set-Content (Join-Path $dir 'src/Get-GoqServer.md') "# Get-GoqServer`n`n## SYNOPSIS`nx`n`n## PARAMETERS`n`n### -NoSuchThing`nx`n"
            $pwsh = Join-Path $PSHOME 'pwsh'
            $out = & $pwsh -NoProfile -NonInteractive -File (Join-Path $RepoRoot 'tools/Build-Help.ps1') -ManifestPath (Join-Path $RepoRoot 'module/Goq.psd1') `
                -SourceDir (Join-Path $dir 'src') -OutDir (Join-Path $dir 'out') 2>&1 | Out-String
            $LASTEXITCODE | Should -Not -Be 0
            $out | Should -Match 'NoSuchThing'
        }
        finally { Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue }
    }
}
