# The job cmdlets' -Id (GoqJobIdCmdlet): the same binding in each, for every kind of input a user pipes.
BeforeDiscovery {
    $script:JobCmdlets = 'Get-GoqJob', 'Wait-GoqJob', 'Receive-GoqJob', 'Stop-GoqJob', 'Remove-GoqJob', 'Set-GoqJob', 'Suspend-GoqJob', 'Resume-GoqJob', 'Restart-GoqJob'
    $script:Kinds = @(@{ Kind = 'JobInfo'; As = 'a Goq.JobInfo' }, @{ Kind = 'GoqJob'; As = 'a Goq.GoqJob from Get-Job' }, @{ Kind = 'Id'; As = 'an id' })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $goqHome = Enter-GoqTestHome
    $null = Start-GoqWorker -Slots 2
    $script:Adopted = @()
    # Goq ids well above this session's PowerShell job ids (the session runs other files' jobs too), so that taking a
    # GoqJob's Id for its GoqId shows. One batch: 1,000 jobs that never run.
    $null = 1..1000 | ForEach-Object { 'true' } | Submit-GoqJob -Hold -Queue padding

    # A job submitted with these parameters, as pipeline input of one kind: the Goq.JobInfo Submit-GoqJob returns,
    # the Goq.GoqJob that Get-Job lists for it (a PowerShell job, whose Id is the session's), or its id. With -Ended,
    # once the job has ended.
    function New-JobInput([string] $Kind, [hashtable] $Submit, [switch] $Ended) {
        $job = Submit-GoqJob @Submit
        if ($Ended) { $null = Wait-GoqJob $job.Id -Timeout 60 }
        $in = switch ($Kind) {
            'JobInfo' { Get-GoqJob $job.Id }
            'Id' { $job.Id }
            'GoqJob' {
                # Adopted by this session, as Submit-GoqJob -AsJob adopts its jobs; found by its InstanceId, as the Goq id
                # of another test home's job may be the same.
                $adopted = Get-GoqJob $job.Id -AsJob
                $script:Adopted += $adopted.InstanceId
                $listed = Get-Job -InstanceId $adopted.InstanceId
                $listed | Should -BeOfType ([Goq.GoqJob])
                $listed.Id | Should -Not -Be $listed.GoqId -Because 'the session''s job id must differ from the Goq id for the test to tell them apart'
                $listed
            }
        }
        [pscustomobject]@{ Input = $in; Id = $job.Id }
    }
}
AfterAll {
    # The session's job list outlives this file: the jobs it adopted end on the server first, then leave the list.
    Get-GoqJob -State Waiting, Held, Running | Stop-GoqJob
    foreach ($instanceId in $Adopted) { Get-Job -InstanceId $instanceId -ErrorAction SilentlyContinue | Remove-Job -Force }
    Exit-GoqTestHome $goqHome
}

Describe '-Id of <_>' -ForEach $JobCmdlets {
    BeforeAll {
        $command = $_
        $id = (Get-Command $command).Parameters['Id']
        $required = if ($command -eq 'Set-GoqJob') { @{ Priority = 1 } } else { @{} } # its other mandatory parameter
    }

    It 'is the first position, by value from the pipeline and not by property name' {
        foreach ($set in $id.ParameterSets.Values) {
            $set.Position | Should -Be 0
            $set.ValueFromPipeline | Should -BeTrue
            $set.ValueFromPipelineByPropertyName | Should -BeFalse -Because 'another object''s Id is never a Goq job''s'
        }
        $id.ParameterType | Should -Be ([long[]])
        $id.Aliases | Should -BeNullOrEmpty
    }

    It 'is mandatory except for Get-GoqJob, and only in its own set for Remove-GoqJob' {
        $id.ParameterSets.Keys | Should -Be $(if ($command -eq 'Remove-GoqJob') { 'Id' } else { '__AllParameterSets' })
        @($id.ParameterSets.Values)[0].IsMandatory | Should -Be ($command -ne 'Get-GoqJob')
    }

    It 'refuses another kind of job object' {
        $other = Start-Job { 1 }
        try {
            $err = $null
            $other | & $command @required -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            "$err" | Should -BeLike '*is not a Goq job*'
        }
        finally { $other | Remove-Job -Force }
    }
}

Describe 'Pipeline input' {
    It 'Get-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true' }
        ($job.Input | Get-GoqJob).Id | Should -Be $job.Id
    }

    It 'Wait-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true' }
        $ended = $job.Input | Wait-GoqJob -Timeout 60
        $ended.Id | Should -Be $job.Id
        $ended.State | Should -Be 'Completed'
    }

    It 'Receive-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'echo mine' } -Ended
        $job.Input | Receive-GoqJob | Should -Be 'mine'
    }

    It 'Stop-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true'; Queue = 'nobody' }
        $stopped = $job.Input | Stop-GoqJob -PassThru
        $stopped.Id | Should -Be $job.Id
        $stopped.State | Should -Be 'Cancelled'
    }

    It 'Remove-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true' } -Ended
        $job.Input | Remove-GoqJob
        Get-GoqJob $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Set-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true'; Queue = 'nobody' }
        $changed = $job.Input | Set-GoqJob -Priority 7 -PassThru
        $changed.Id | Should -Be $job.Id
        $changed.Priority | Should -Be 7
    }

    It 'Suspend-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true'; Queue = 'nobody' }
        $held = $job.Input | Suspend-GoqJob -PassThru
        $held.Id | Should -Be $job.Id
        $held.State | Should -Be 'Held'
    }

    It 'Resume-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'true'; Queue = 'nobody'; Hold = $true }
        $released = $job.Input | Resume-GoqJob -PassThru
        $released.Id | Should -Be $job.Id
        $released.State | Should -Be 'Waiting'
    }

    It 'Restart-GoqJob takes <As>' -ForEach $Kinds {
        $job = New-JobInput $Kind @{ Command = 'exit 3' } -Ended
        $restarted = $job.Input | Restart-GoqJob -PassThru
        $restarted.Id | Should -Be $job.Id
        (Wait-GoqJob $job.Id -Timeout 60).Attempts | Should -Be 2 -Because 'it ran again'

    }
}
