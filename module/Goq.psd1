@{
    RootModule           = 'bin/Goq.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b7c2f0e-3d1a-4e55-9a0c-6f1f6c2d9b41'
    Author               = 'Goq'
    CompanyName          = 'Goq'
    Copyright            = '(c) Goq. All rights reserved.'
    Description          = 'Goq: a distributed job queue and job manager (server, workers, clients over NetMQ) for PowerShell.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Goq.Format.ps1xml')
    CmdletsToExport      = @(
        'Initialize-GoqHome'
        'New-GoqServiceUnit'
        'Export-GoqHome'
        'Import-GoqHome'
        'Start-GoqServer'
        'Stop-GoqServer'
        'Get-GoqServer'
        'Start-GoqWorker'
        'Stop-GoqWorker'
        'Get-GoqWorker'
        'Submit-GoqJob'
        'Get-GoqJob'
        'Wait-GoqJob'
        'Receive-GoqJob'
        'Stop-GoqJob'
        'Remove-GoqJob'
        'Set-GoqJob'
        'Suspend-GoqJob'
        'Resume-GoqJob'
        'Get-GoqQueue'
        'Set-GoqQueue'
        'Restart-GoqJob'
        'Grant-GoqUser'
        'Get-GoqUser'
        'Set-GoqUser'
        'Revoke-GoqUser'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('Jobs', 'Queue', 'Cluster', 'HPC', 'Scheduler', 'NetMQ', 'PSEdition_Core', 'Linux', 'MacOS', 'Windows')
        }
    }
}
