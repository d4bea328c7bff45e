BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $worker = Start-GoqWorker -Slots 1
    $secret = (Get-Content (Join-Path $goqHome '.goq/cluster.secret')).Trim()
}
AfterAll { Exit-GoqTestHome $goqHome }

Describe 'Credentials' {
    It 'refuses a submit from a home with the wrong secret with a SecurityError, and counts it' {
        $impostor = New-GoqImpostorHome $goqHome
        try {
            $before = (Get-GoqServer).DroppedBadSignatures
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $err = $null
            try { Submit-GoqJob -Home $impostor 'echo pwned' } catch { $err = $_ }
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the refusal comes back at once, not after a timeout'
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqCredentialsRejected,*'
            $err.CategoryInfo.Category | Should -Be 'SecurityError'
            $err.Exception.Message | Should -Match 'did not accept our credentials'
            $err.Exception.Message | Should -Not -Match $secret
            (Get-GoqServer).DroppedBadSignatures | Should -BeGreaterThan $before
            (Get-GoqJob | Where-Object Command -EQ 'echo pwned') | Should -BeNullOrEmpty
        } finally { Remove-GoqTestHome $impostor }
    }

    It 'refuses a worker from a home with the wrong secret: it never takes a job and exits' {
        $impostor = New-GoqImpostorHome $goqHome
        try {
            $before = (Get-GoqServer).DroppedBadSignatures
            { Start-GoqWorker -Home $impostor -Slots 1 } | Should -Throw -ErrorId 'GoqCredentialsRejected,Goq.Cmdlets.Commands.StartGoqWorkerCommand'
            (Get-GoqServer).DroppedBadSignatures | Should -BeGreaterThan $before
            @(Get-GoqWorker).Count | Should -Be 1
            Wait-Until { -not (Get-GoqHomeProcess $impostor, 'Start-GoqWorker') } -TimeoutSec 15 -Because 'the refused worker process to exit'
            # The worker's log, and its job keeper's, which is the process that talks to the server.
            (Get-GoqLogEntry $impostor -Worker -Event worker.credentials_rejected).message | Should -Match 'did not accept our credentials'
        } finally { Remove-GoqTestHome $impostor }
    }

    It 'names the missing key file with a SecurityError when a home has no credentials' {
        $broken = New-GoqTestHome
        try {
            Remove-Item (Join-Path $broken '.goq/cluster.secret')
            { Get-GoqJob -Home $broken } | Should -Throw -ErrorId 'GoqCredentialsMissing,Goq.Cmdlets.Commands.GetGoqJobCommand'
            try { Get-GoqJob -Home $broken } catch { $_.CategoryInfo.Category | Should -Be 'SecurityError'; $_.Exception.Message | Should -Match 'cluster.secret' }
        } finally { Remove-GoqTestHome $broken }
    }

    It 'keeps the secret and GOQ_* settings out of a job, its output and the logs' {
        $env:GOQ_TEST_SETTING = 'leak'
        $env:SHALLNOTPASS = $secret
        try {
            $job = Submit-GoqJob 'env; echo "secret=[$SHALLNOTPASS]"' -Environment @{ EXPLICIT = "x$secret"; KEPT = 'yes' } -WarningVariable warned -WarningAction SilentlyContinue |
                Wait-GoqJob -Timeout 30
        } finally { Remove-Item Env:GOQ_TEST_SETTING, Env:SHALLNOTPASS }
        $job.State | Should -Be 'Completed'
        $output = Receive-GoqJob $job.Id
        $output | Should -Contain 'secret=[]'
        $output | Should -Contain 'KEPT=yes'
        "$warned" | Should -Match 'EXPLICIT is not passed'
        ($output | Where-Object { $_ -match '^(GOQ_(?!JOB_ID=|JOB_ATTEMPT=|WORKER_ID=|JOB_SLOTS=)|EXPLICIT=|SHALLNOTPASS=)' }) | Should -BeNullOrEmpty
        # Only Goq's own variables for the job: which job, which attempt, which worker, how many slots.
        $output | Should -Contain "GOQ_JOB_ID=$($job.Id)"
        $output | Should -Contain 'GOQ_JOB_ATTEMPT=1'
        $output | Should -Contain "GOQ_WORKER_ID=$($worker.Id)"
        # Logs, output files, and the database too (SQLite keeps text as UTF-8, so a plain byte search finds it).
        foreach ($file in Get-ChildItem -Recurse -File -Force $goqHome | Where-Object { $_.Name -ne 'cluster.secret' -and $_.Extension -ne '.lock' }) {
            $text = [System.Text.Encoding]::UTF8.GetString([System.IO.File]::ReadAllBytes($file.FullName))
            $text.Contains($secret, [StringComparison]::OrdinalIgnoreCase) | Should -BeFalse -Because "$($file.Name) must not hold the secret"
        }
    }
}

Describe 'Parameter validation' {
    It 'rejects ids that are not positive numbers on every job cmdlet, before asking the server' {
        foreach ($cmdlet in 'Get-GoqJob', 'Wait-GoqJob', 'Receive-GoqJob', 'Stop-GoqJob', 'Remove-GoqJob') {
            $type = "Goq.Cmdlets.Commands.$($cmdlet -replace '-', '')Command"
            { & $cmdlet -Id 'abc' } | Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$type" -Because $cmdlet
            { & $cmdlet -Id 0 } | Should -Throw -ErrorId "ParameterArgumentValidationError,$type" -Because $cmdlet
        }
    }

    It 'rejects a non-positive timeout or attempt count, and an empty command' {
        { Submit-GoqJob 'true' -TimeoutSec 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob 'true' -MaxAttempts 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob '   ' } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        $err = $null
        try { Submit-GoqJob '   ' } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'refuses a NUL in an -Environment name or value, or in a command, and submits nothing' {
        $before = @(Get-GoqJob).Count
        foreach ($environment in @{ "A`0B" = 'x' }, @{ OK = "x`0y" }, @{ 'A=B' = 'x' }) {
            $err = $null
            try { Submit-GoqJob 'true' -Environment $environment } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'GoqInvalidEnvironment,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ErrorDetails.RecommendedAction | Should -Match 'NUL'
        }
        { Submit-GoqJob "echo a`0b" } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        { Submit-GoqJob /bin/echo -ArgumentList "a`0b" } | Should -Throw -ErrorId 'GoqInvalidJobSpec,Goq.Cmdlets.Commands.SubmitGoqJobCommand'
        @(Get-GoqJob).Count | Should -Be $before
    }
}
