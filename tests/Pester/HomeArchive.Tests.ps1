BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Add-Type -AssemblyName System.IO.Compression.FileSystem

    function Get-Mode([string] $Path) { [Convert]::ToString([int](Get-Item -Force $Path).UnixFileMode, 8) }

    # A zip with the given entries (name => text), for archives Export-GoqHome would never write.
    function New-Zip([string] $Path, [hashtable] $Entries) {
        $zip = [System.IO.Compression.ZipFile]::Open($Path, 'Create')
        try {
            foreach ($name in $Entries.Keys) {
                $writer = [System.IO.StreamWriter]::new($zip.CreateEntry($name).Open())
                $writer.Write($Entries[$name]); $writer.Dispose()
            }
        } finally { $zip.Dispose() }
    }
}

Describe 'Export-GoqHome and Import-GoqHome' {
    BeforeAll {
        $serverHome = Enter-GoqTestHome
        $out = Join-Path $serverHome 'out'
        New-Item -ItemType Directory $out | Out-Null
    }
    AfterAll {
        Exit-GoqTestHome $serverHome
    }

    It 'exports the config and the keys a worker needs, never the server key, the database or the logs, readable by its owner only' {
        $zip = Export-GoqHome -Path (Join-Path $out 'worker.zip') -WarningVariable warned -WarningAction SilentlyContinue
        $zip.Role | Should -Be 'Worker'
        $zip.ServerPublicKey | Should -Be (Get-Content (Join-Path $serverHome '.goq/server.public')).Trim()
        "$warned" | Should -BeLike '*cannot reach*' -Because 'the test home names its server as 127.0.0.1'
        Get-Mode $zip.Path | Should -Be '600'
        $names = [System.IO.Compression.ZipFile]::OpenRead($zip.Path).Entries.FullName | Sort-Object
        $names | Should -Be @('cluster.secret', 'config.json', 'goq-home.json', 'server.public')
    }

    It 'imports into a new home (0700 folder, 0600 files) whose worker joins the server and runs a job' {
        $zip = Export-GoqHome -Path (Join-Path $out 'join.zip') -WarningAction SilentlyContinue
        $nodeHome = New-GoqTestHome # initialized: replace it with a fresh folder, as on a new host
        Remove-Item -Recurse -Force $nodeHome
        try {
            $joined = Import-GoqHome -Path $zip.Path -Home $nodeHome
            $joined.ServerPublicKey | Should -Be $zip.ServerPublicKey
            $joined.Endpoint | Should -Be $zip.Endpoint
            Get-Mode (Join-Path $nodeHome '.goq') | Should -Be '700'
            foreach ($file in 'config.json', 'cluster.secret', 'server.public') {
                Get-Mode (Join-Path $nodeHome ".goq/$file") | Should -Be '600' -Because "$file holds what only its owner may read"
            }
            Test-Path (Join-Path $nodeHome '.goq/server.secret') | Should -BeFalse

            $worker = Start-GoqWorker -Home $nodeHome -Slots 1
            (Get-GoqWorker).Id | Should -Contain $worker.Id -Because 'the server accepts the imported credentials'
            $job = Submit-GoqJob -Home $nodeHome 'echo from the new host'
            (Wait-GoqJob $job.Id -Timeout 30).State | Should -Be 'Completed'
            Stop-GoqWorker -Id $worker.Id -Force | Out-Null
        } finally {
            Remove-Item -Recurse -Force $nodeHome -ErrorAction SilentlyContinue
        }
    }

    It 'refuses a home of another cluster, and with -Force makes it join, dropping its own server key' {
        $zip = Export-GoqHome -Path (Join-Path $out 'other.zip') -WarningAction SilentlyContinue
        $otherHome = New-GoqTestHome
        try {
            $before = (Get-Content (Join-Path $otherHome '.goq/cluster.secret')).Trim()
            { Import-GoqHome -Path $zip.Path -Home $otherHome } | Should -Throw -ErrorId 'GoqHomeOfAnotherCluster,Goq.Cmdlets.Commands.ImportGoqHomeCommand'
            (Get-Content (Join-Path $otherHome '.goq/cluster.secret')).Trim() | Should -Be $before -Because 'a refused import writes nothing'

            (Import-GoqHome -Path $zip.Path -Home $otherHome -Force).ServerPublicKey | Should -Be $zip.ServerPublicKey
            Test-Path (Join-Path $otherHome '.goq/server.secret') | Should -BeFalse -Because "the other cluster's server key would not match"
            (Import-GoqHome -Path $zip.Path -Home $otherHome).ServerPublicKey | Should -Be $zip.ServerPublicKey -Because 'the same cluster again is fine'
        } finally {
            Remove-GoqTestHome $otherHome
        }
    }

    It 'refuses an archive with a path, a stray file or a key that is not a key, writing nothing' -ForEach @(
        @{ Why = 'a path out of .goq'; Extra = @{ '../../evil' = 'x' } }
        @{ Why = 'a stray file'; Extra = @{ 'server.secret' = 'x' } }
        @{ Why = 'a bad key'; Extra = @{ 'cluster.secret' = 'not a key' } }
    ) {
        $entries = @{
            'config.json'    = '{"port":1776,"serverHost":"node1"}'
            'goq-home.json'  = '{"Role":"Worker"}'
            'cluster.secret' = '00' * 32
            'server.public'  = '11' * 32
        }
        foreach ($name in $Extra.Keys) { $entries[$name] = $Extra[$name] }
        $bad = Join-Path $out ("bad-" + [guid]::NewGuid().ToString('N').Substring(0, 6) + '.zip')
        New-Zip $bad $entries
        $target = Join-Path $out ('target-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        { Import-GoqHome -Path $bad -Home $target } | Should -Throw -ErrorId 'GoqInvalidHomeArchive,Goq.Cmdlets.Commands.ImportGoqHomeCommand' -Because $Why
        Test-Path $target | Should -BeFalse -Because 'nothing is written from an archive that is not valid'
        Test-Path (Join-Path $out '../evil') | Should -BeFalse
    }

    It 'says when there is no archive at the path' {
        $err = { Import-GoqHome -Path (Join-Path $out 'missing.zip') -Home (Join-Path $out 'never') } | Should -Throw -ErrorId 'GoqInvalidHomeArchive,Goq.Cmdlets.Commands.ImportGoqHomeCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }
}
