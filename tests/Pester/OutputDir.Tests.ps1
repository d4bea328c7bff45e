BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = New-GoqTestHome
    $env:GOQ_ODIR = 'testo'
    Start-GoqServer -Home $goqHome | Out-Null
    $env:GOQ_ODIR = $null
}
AfterAll { Remove-GoqTestHome $goqHome }

Describe 'Output files' {
    It "writes to new_sub_dir/<odir>/out.00001, with a wait registered before any worker exists" {
        $dir = Join-Path $goqHome 'new_sub_dir'
        New-Item -ItemType Directory $dir | Out-Null
        $job = Submit-GoqJob -Home $goqHome /bin/echo -ArgumentList 'hello world' -WorkingDirectory $dir
        $job.Id | Should -Be 1

        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/module/Goq.psd1'; Wait-GoqJob -Home '$goqHome' -Id 1")
        $async = $ps.BeginInvoke()
        try {
            Wait-Until { $ps.InvocationStateInfo.State -eq 'Running' } -Because 'the waiter to start'
            Start-GoqWorker -Home $goqHome -Slots 1 | Out-Null
            $async.AsyncWaitHandle.WaitOne(30000) | Should -BeTrue
            $result = $ps.EndInvoke($async)
            $result[0].State | Should -Be 'Completed'
        } finally { $ps.Dispose() }

        Test-Path (Join-Path $dir 'testo') -PathType Container | Should -BeTrue
        (Get-Content -Raw (Join-Path $dir 'testo/out.00001')).Trim() | Should -Be 'hello world'
    }

    It 'falls back to <home>/<odir> when the working directory cannot take the output' {
        # A file where the output folder should be stops even root from creating it.
        $blocked = Join-Path $goqHome 'blocked'
        New-Item -ItemType Directory $blocked | Out-Null
        Set-Content -Path (Join-Path $blocked 'testo') -Value 'not a folder'
        $job = Submit-GoqJob -Home $goqHome 'echo fallback' -WorkingDirectory $blocked | Wait-GoqJob -Home $goqHome -Timeout 30
        $job.State | Should -Be 'Completed'
        $job.OutputPath | Should -Be (Join-Path $goqHome ('testo/out.{0:D5}' -f $job.Id))
        (Get-Content $job.OutputPath) | Should -Be 'fallback'
    }

    It 'writes no file for a job without output' {
        $job = Submit-GoqJob -Home $goqHome 'true' -WorkingDirectory $goqHome | Wait-GoqJob -Home $goqHome -Timeout 30
        $job.OutputPath | Should -BeNullOrEmpty
        Test-Path (Join-Path $goqHome ('testo/out.{0:D5}' -f $job.Id)) | Should -BeFalse
    }
}
