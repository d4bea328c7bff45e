# A real cluster on one machine: three hosts as network namespaces on a bridge, each with its own address and (for
# the workers) its own host name. The server runs in one, a worker in each of the other two; clients submit from the
# host namespace, which reaches them through the bridge. Needs root and iproute2; skipped with the reason otherwise.

BeforeDiscovery {
    $script:SkipReason = if (-not $IsLinux) { 'network namespaces need Linux' }
    elseif ((& id -u) -ne '0') { 'building network namespaces needs root' }
    elseif (-not (Get-Command ip -ErrorAction SilentlyContinue)) { 'ip (iproute2) is missing' }
    elseif (-not (Get-Command unshare -ErrorAction SilentlyContinue)) { 'unshare (util-linux) is missing' }
    else {
        # Root in a container may still lack the capabilities: try what the test needs, once, and say what failed.
        $probe = 'gqprobe' + [guid]::NewGuid().ToString('N').Substring(0, 5)
        $failure = & {
            $out = & ip netns add $probe 2>&1
            if ($LASTEXITCODE -ne 0) { return "cannot create a network namespace here: $out" }
            $out = & ip link add "$($probe)h" type veth peer name eth0 netns $probe 2>&1
            if ($LASTEXITCODE -ne 0) { return "cannot create a veth pair here: $out" }
            $null
        }
        & ip link del "$($probe)h" 2>$null
        & ip netns del $probe 2>$null
        $failure
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = $SkipReason

    # Everything is named after one random tag, so a run never touches what another run (or the machine) has.
    $tag = 'gq' + [guid]::NewGuid().ToString('N').Substring(0, 5)
    $subnet = "10.213.$(Get-Random -Minimum 1 -Maximum 250)"
    $bridge = "$($tag)br"
    $hosts = [ordered]@{
        server = [pscustomobject]@{ Ns = "$tag-srv"; Veth = "$($tag)s"; Ip = "$subnet.10"; Name = "$($tag)srv" }
        a      = [pscustomobject]@{ Ns = "$tag-a"; Veth = "$($tag)a"; Ip = "$subnet.11"; Name = "$($tag)hosta" }
        b      = [pscustomobject]@{ Ns = "$tag-b"; Veth = "$($tag)b"; Ip = "$subnet.12"; Name = "$($tag)hostb" }
    }
    $goqHome = Join-Path ([System.IO.Path]::GetTempPath()) "goq-cluster-$tag"
    # The same three hosts serve a multi-user cluster too: a second home, its server on another port, a worker on each.
    $muHome = Join-Path ([System.IO.Path]::GetTempPath()) "goq-cluster-mu-$tag"
    $user = "$($tag)u"
    $pwsh = Join-Path $PSHOME 'pwsh'
    $manifest = Join-Path $RepoRoot 'module/Goq.psd1'

    # $args, not parameters: arguments such as -c must reach the program, not bind to this function.
    function Invoke-Native {
        $program, $rest = $args
        $output = & $program @rest 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$program $($rest -join ' ') failed ($LASTEXITCODE): $output" }
        $output
    }

    # Runs a Goq cmdlet inside a host: in its namespace and, through unshare, with its own host name. The detached
    # server or worker that the cmdlet starts stays in both.
    function Start-InHost($HostInfo, [string] $Cmdlet, [string] $GoqHomeOf = $goqHome) {
        $script = Join-Path $GoqHomeOf "start-$($HostInfo.Name).ps1"
        "Import-Module '$manifest'; $Cmdlet -Home '$GoqHomeOf' -ErrorAction Stop | Out-Null" | Set-Content $script
        Invoke-Native ip netns exec $HostInfo.Ns unshare --uts /bin/sh -c 'hostname "$0" && exec "$1" -NoProfile -NonInteractive -File "$2"' `
            $HostInfo.Name $pwsh $script
    }

    # Idempotent, and run whatever happened before: processes first (a namespace lives on while a process is in it).
    function Remove-ClusterHosts {
        foreach ($h in $goqHome, $muHome) {
            if (Test-Path $h) {
                try { Stop-GoqServer -Confirm:$false -Home $h -ErrorAction SilentlyContinue } catch { }
                $null = Stop-GoqHomeProcess $h -GraceSec 2
            }
        }
        if ((& getent passwd $user)) {
            & pkill -KILL -u $user 2>$null
            & userdel -r $user 2>$null
        }
        Remove-Item -Recurse -Force $muHome -ErrorAction SilentlyContinue
        foreach ($h in $hosts.Values) {
            & ip netns pids $h.Ns 2>$null | ForEach-Object { & kill -9 $_ 2>$null }
            & ip netns del $h.Ns 2>$null
            & ip link del $h.Veth 2>$null
        }
        & ip link del $bridge 2>$null
        Remove-Item -Recurse -Force $goqHome -ErrorAction SilentlyContinue
    }

    function Get-Leftover {
        $namespaces = @(& ip netns list 2>$null | Where-Object { $_ -like "$tag-*" })
        $links = @(& ip -o link show 2>$null | Where-Object { $_ -like "*$tag*" })
        $processes = @(Get-GoqHomeProcess $goqHome) + @(Get-GoqHomeProcess $muHome)
        @($namespaces) + $links + ($processes | ForEach-Object { "pid $($_.Id)" }) + @(if (Test-Path $goqHome) { $goqHome }) + @(if (Test-Path $muHome) { $muHome }) +
            @(if (& getent passwd $user) { "user $user" })
    }

    if ($SkipReason) { return }

    Invoke-Native ip link add $bridge type bridge
    Invoke-Native ip addr add "$subnet.1/24" dev $bridge
    Invoke-Native ip link set $bridge up
    foreach ($h in $hosts.Values) {
        Invoke-Native ip netns add $h.Ns
        Invoke-Native ip link add $h.Veth type veth peer name eth0 netns $h.Ns
        Invoke-Native ip link set $h.Veth master $bridge
        Invoke-Native ip link set $h.Veth up
        Invoke-Native ip netns exec $h.Ns ip addr add "$($h.Ip)/24" dev eth0
        Invoke-Native ip netns exec $h.Ns ip link set eth0 up
        Invoke-Native ip netns exec $h.Ns ip link set lo up
    }

    # One home, on the file system all hosts share; the server is reached at its own address. Short heartbeats, so a
    # cut worker is found dead within seconds.
    New-Item -ItemType Directory $goqHome | Out-Null
    Initialize-GoqHome -Path $goqHome -Port (Get-FreePort) -ServerHost $hosts.server.Ip | Out-Null
    $configPath = Join-Path $goqHome '.goq/config.json'
    $config = Get-Content -Raw $configPath | ConvertFrom-Json
    $config.HeartbeatSec = 1
    $config | Add-Member -Force -NotePropertyName DeadWorkerSec -NotePropertyValue 3
    $config | ConvertTo-Json | Set-Content $configPath

    Start-InHost $hosts.server 'Start-GoqServer'
    Start-InHost $hosts.a 'Start-GoqWorker -Slots 1'
    Start-InHost $hosts.b 'Start-GoqWorker -Slots 1'

    # The multi-user cluster: root's workers on hosts a and b run a throw-away user's jobs as that user.
    New-Item -ItemType Directory $muHome | Out-Null
    Initialize-GoqHome -Path $muHome -Port (Get-FreePort) -ServerHost $hosts.server.Ip -MultiUser | Out-Null
    Invoke-Native useradd -m $user
    $script:UserHome = (& getent passwd $user).Split(':')[5]
    Start-InHost $hosts.server 'Start-GoqServer' $muHome
    Start-InHost $hosts.a 'Start-GoqWorker -Slots 1' $muHome
    Start-InHost $hosts.b 'Start-GoqWorker -Slots 1' $muHome
    Grant-GoqUser -Home $muHome -User $user | Out-Null
    Push-Location $goqHome
    $script:Pushed = $true
}

AfterAll {
    if (-not $SkipReason) {
        if ($Pushed) { Pop-Location }
        Remove-ClusterHosts
    }
}

Describe 'A three-host cluster (network namespaces)' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason }
    }

    It 'runs jobs submitted from the host namespace on both workers, each naming its host' {
        $workers = Get-GoqWorker -Home $goqHome
        ($workers.Host | Sort-Object) | Should -Be @($hosts.a.Name, $hosts.b.Name)

        $jobs = 1..6 | ForEach-Object { 'hostname; sleep 0.3' } | Submit-GoqJob -Home $goqHome | Wait-GoqJob -Home $goqHome -Timeout 60
        $jobs.State | Sort-Object -Unique | Should -Be 'Completed'
        $ranOn = $jobs | ForEach-Object { Receive-GoqJob -Home $goqHome -Id $_.Id } | Sort-Object -Unique
        $ranOn | Should -Be @($hosts.a.Name, $hosts.b.Name)
        ($jobs.WorkerHost | Sort-Object -Unique) | Should -Be @($hosts.a.Name, $hosts.b.Name)
    }

    It 'refuses a copy of the home without the right secret, to submit or to take jobs, and counts it' {
        $impostor = New-GoqImpostorHome $goqHome
        try {
            $before = (Get-GoqServer -Home $goqHome).DroppedBadSignatures

            $refused = $null
            try { Submit-GoqJob -Home $impostor 'echo pwned' | Out-Null } catch { $refused = $_ }
            $refused.FullyQualifiedErrorId | Should -BeLike 'GoqCredentialsRejected,*'
            $refused.CategoryInfo.Category | Should -Be 'SecurityError'
            { Start-GoqWorker -Home $impostor -Slots 1 } | Should -Throw -ErrorId 'GoqCredentialsRejected,Goq.Cmdlets.Commands.StartGoqWorkerCommand'

            (Get-GoqServer -Home $goqHome).DroppedBadSignatures | Should -BeGreaterOrEqual ($before + 2)
            @(Get-GoqWorker -Home $goqHome).Count | Should -Be 2
            Get-GoqJob -Home $goqHome | Where-Object Command -EQ 'echo pwned' | Should -BeNullOrEmpty
        } finally { Remove-GoqTestHome $impostor }
    }

    It "re-queues the job of a worker whose link is cut and completes it on the other" {
        $job = Submit-GoqJob -Home $goqHome 'hostname; sleep 6; echo finished on $(hostname)'
        Wait-Until { (Get-GoqJob -Home $goqHome -Id $job.Id).State -eq 'Running' } -Because 'the job to start'
        $script:cutHost = $hosts.Values | Where-Object Name -EQ (Get-GoqJob -Home $goqHome -Id $job.Id).WorkerHost
        $otherHost = $hosts.Values | Where-Object { $_.Name -ne $cutHost.Name -and $_ -ne $hosts.server }
        $resubmitsBefore = (Get-GoqServer -Home $goqHome).DeadWorkerResubmits

        Invoke-Native ip link set $cutHost.Veth down
        $done = Wait-GoqJob -Home $goqHome -Id $job.Id -Timeout 60
        $done.State | Should -Be 'Completed'
        $done.WorkerHost | Should -Be $otherHost.Name
        $done.Attempts | Should -BeGreaterOrEqual 2
        (Get-GoqServer -Home $goqHome).DeadWorkerResubmits | Should -BeGreaterThan $resubmitsBefore
        Receive-GoqJob -Home $goqHome -Id $job.Id | Should -Contain "finished on $($otherHost.Name)"
        @(Get-GoqWorker -Home $goqHome).Host | Should -Be @($otherHost.Name)
    }

    It 'takes the cut worker back when its link returns, ignores its late result, and gives it new jobs' {
        $staleBefore = (Get-GoqServer -Home $goqHome).StaleReports
        Invoke-Native ip link set $cutHost.Veth up
        Wait-Until { @(Get-GoqWorker -Home $goqHome).Host -contains $cutHost.Name } -TimeoutSec 60 -Because 'the cut worker to announce itself again'
        Wait-Until { (Get-GoqServer -Home $goqHome).StaleReports -gt $staleBefore } -TimeoutSec 30 -Because "the cut worker's late report to arrive and be ignored"

        $script:ranOn = @()
        Wait-Until {
            $next = Submit-GoqJob -Home $goqHome 'hostname; sleep 0.5' | Wait-GoqJob -Home $goqHome -Timeout 30
            $script:ranOn += Receive-GoqJob -Home $goqHome -Id $next.Id
            $script:ranOn -contains $cutHost.Name
        } -TimeoutSec 60 -Because 'a new job to run on the worker that came back'
    }

    It 'runs a multi-user cluster on the same hosts: a user''s jobs run as them on both workers, and the user key is all they need' {
        @(Get-GoqWorker -Home $UserHome).Count | Should -Be 2
        $jobs = 1..6 | ForEach-Object { 'echo "$(hostname) $(id -un)"; sleep 0.3' } | Submit-GoqJob -Home $UserHome -WorkingDirectory $UserHome |
            Wait-GoqJob -Home $UserHome -Timeout 60
        $jobs.State | Sort-Object -Unique | Should -Be 'Completed'
        $jobs.Owner | Sort-Object -Unique | Should -Be $user
        $ranAs = $jobs | ForEach-Object { Receive-GoqJob -Home $UserHome -Id $_.Id } | Sort-Object -Unique
        $ranAs | Should -Be @("$($hosts.a.Name) $user", "$($hosts.b.Name) $user")
        $jobs | ForEach-Object { (& stat -c '%U' $_.OutputPath) } | Sort-Object -Unique | Should -Be $user
        Join-Path $UserHome '.goq/cluster.secret' | Should -Not -Exist
    }

    It 'removes every namespace, link, process and file it created' {
        Pop-Location
        $script:Pushed = $false
        Remove-ClusterHosts
        Get-Leftover | Should -BeNullOrEmpty
    }
}
