# Helpers shared by the demo, the benchmark and the Pester suite (dot-source this file).

# A TCP port that was free a moment ago, on the loopback interface.
function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# The median of some numbers (the lower middle one of an even count), as the bench's A B A B rounds report it.
function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[math]::Floor(($Values.Count - 1) / 2)] }

# Other processes whose command line holds every given text (every server and worker names its home there).
function Get-GoqHomeProcess([string[]] $Text) {
    # CommandLine is read from /proc each time: read it once, since the process may exit in between.
    Get-Process | Where-Object {
        $commandLine = $_.CommandLine
        $_.Id -ne $PID -and $commandLine -and -not ($Text | Where-Object { -not $commandLine.Contains($_) })
    }
}

# Wait a little for a home's servers and workers to exit after a graceful stop, then kill what is left (with its
# children). Returns how many had to be killed.
function Stop-GoqHomeProcess([string] $GoqHome, [double] $GraceSec = 10) {
    $deadline = [DateTime]::UtcNow.AddSeconds($GraceSec)
    do {
        $left = @(Get-GoqHomeProcess $GoqHome)
        if ($left.Count -eq 0) { return 0 }
        Start-Sleep -Milliseconds 50 # poll step until the deadline
    } while ([DateTime]::UtcNow -lt $deadline)
    $left | ForEach-Object { try { $_.Kill($true) } catch { } }
    $left.Count
}
