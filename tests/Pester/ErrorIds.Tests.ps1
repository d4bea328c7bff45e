BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Bin = Join-Path (Get-Module Goq).ModuleBase 'bin'
    $script:KnownIds = @([Goq.Errors.GoqErrorIds].GetFields() | Where-Object IsLiteral | ForEach-Object { $_.GetValue($null) })

    # Every string literal in an assembly that reads like a Goq error id ("Goq" and a PascalCase name). A use of a
    # GoqErrorIds constant is compiled into the same literal, so the ids in use and any id written out by hand are
    # both found; the string heap holds every literal the code loads.
    function Get-GoqLiteral([string] $Path) {
        $stream = [System.IO.File]::OpenRead($Path)
        try {
            $pe = [System.Reflection.PortableExecutable.PEReader]::new($stream)
            $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
            $handle = [System.Reflection.Metadata.Ecma335.MetadataTokens]::UserStringHandle(1)
            while (-not $handle.IsNil) {
                $text = $reader.GetUserString($handle)
                if ($text -cmatch '^Goq[A-Z][A-Za-z]*$') { $text }
                $handle = [System.Reflection.Metadata.Ecma335.MetadataReaderExtensions]::GetNextHandle($reader, $handle)
            }
        }
        finally { $stream.Dispose() }
    }
}

Describe 'Error ids' {
    It 'are all in GoqErrorIds, in every assembly of the module' {
        # Literals of that shape that are not error ids, each with what it is.
        $notIds = @(
            'GoqJob'           # the noun of the job cmdlets, and the type name of a PowerShell job (Goq.GoqJob)
            'GoqId'            # a Goq.GoqJob's property, read by -Id's transformation
            'GoqJobId'         # the property added to a script-block job's output objects
            'GoqArrayId'       # the variable an array task's script block reads
            'GoqRunner'        # the runner's host name
            'GoqSettings', 'GoqServerOptions', 'GoqWorkerOptions', 'GoqMessage' # type names in the engine's messages
        )
        $unknown = foreach ($assembly in 'Goq.dll', 'Goq.Engine.dll', 'Goq.Runner.dll') {
            $path = Join-Path $Bin $assembly
            $path | Should -Exist
            Get-GoqLiteral $path | Where-Object { $_ -cnotin $KnownIds -and $_ -cnotin $notIds } | ForEach-Object { "$assembly`: $_" }
        }
        $unknown | Should -BeNullOrEmpty -Because 'an error id belongs in GoqErrorIds (and its recommended action in GoqRecommendedActions)'
    }

    It 'are made into ErrorRecords by ErrorRecordFactory alone in the cmdlets' {
        # RecordWriter rebuilds a job's own records as the job wrote them (and a command's stderr as pwsh shows a native
        # command's, NativeCommandError): those ids are the job's, not Goq's.
        $made = Get-ChildItem (Join-Path $RepoRoot 'src/Goq.Cmdlets') -Recurse -Filter *.cs |
            Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' -and $_.Name -notin 'ErrorRecordFactory.cs', 'RecordWriter.cs' } |
            Select-String -Pattern 'new ErrorRecord\(' | ForEach-Object { "$($_.Filename):$($_.LineNumber)" }
        $made | Should -BeNullOrEmpty
    }

    It 'give every error kind a category of its own' {
        $factory = (Get-Module Goq).ImplementingAssembly.GetType('Goq.Cmdlets.ErrorRecordFactory', $true)
        $categoryOf = $factory.GetMethod('CategoryOf')
        $categories = foreach ($kind in [enum]::GetValues([Goq.Errors.GoqErrorKind])) { $categoryOf.Invoke($null, @($kind)) }
        @($categories | Sort-Object -Unique).Count | Should -Be @($categories).Count
    }
}

Describe 'An error the cmdlets find themselves' {
    BeforeAll { $goqHome = Enter-GoqTestHome }
    AfterAll { Exit-GoqTestHome $goqHome }

    It 'carries the kind its category says: <Name>' -ForEach @(
        @{ Name = 'an unknown job'; Run = { Get-GoqJob -Id 999999 -ErrorAction Stop }; Id = 'GoqJobNotFound'; Kind = 'NotFound'; Category = 'ObjectNotFound' }
        @{ Name = 'a wait that timed out'; Run = { Submit-GoqJob 'sleep 30' -Hold | Wait-GoqJob -Timeout 0 -ErrorAction Stop }; Id = 'GoqWaitTimeout'; Kind = 'Timeout'; Category = 'OperationTimeout' }
        @{ Name = 'an option of the other role'; Run = { New-GoqServiceUnit -Role Server -Slots 2 }; Id = 'GoqInvalidServiceOption'; Kind = 'InvalidArgument'; Category = 'InvalidArgument' }
        @{ Name = 'a script that does not parse'; Run = { Set-Content -Path (Join-Path $goqHome 'broken.ps1') -Value 'if ('; Submit-GoqJob -LiteralPath (Join-Path $goqHome 'broken.ps1') -ErrorAction Stop }; Id = 'GoqInvalidJobSpec'; Kind = 'NotParsable'; Category = 'ParserError' }
    ) {
        $err = $Run | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.Exception | Should -BeOfType ([Goq.Errors.GoqException])
        $err.Exception.Kind | Should -Be $Kind
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }
}
