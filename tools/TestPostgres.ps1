# Throw-away PostgreSQL instances for the tests that need a real database (the PostgreSQL store, its fail-over):
# initdb and pg_ctl run as an unprivileged user (postgres when this is root, else the current user) in a temporary
# folder, on a free port, with a password; Stop-GoqTestPostgres stops the server and removes the folder. Where
# PostgreSQL's server programs are missing they are installed from Debian's postgresql package when this is root with
# apt-get; otherwise Start-GoqTestPostgres returns the reason, for Set-ItResult -Skipped. Dot-source it.

# The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres), the newest version installed; $null if none.
function Find-PostgresBin {
    $found = Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue |
        Sort-Object { [int]($_.FullName -replace '^/usr/lib/postgresql/(\d+)/.*$', '$1') } -Descending | Select-Object -First 1
    if ($found) { return Split-Path $found.FullName }
    $initdb = Get-Command initdb -ErrorAction SilentlyContinue
    if ($initdb) { return Split-Path $initdb.Source }
    $null
}

# The programs, installing Debian's postgresql where that can be done (root with apt-get); else the reason as a string.
function Get-PostgresBin {
    if ($bin = Find-PostgresBin) { return $bin }
    if (-not $IsLinux) { return 'PostgreSQL test instances need Linux' }
    if (-not (Get-Command apt-get -ErrorAction SilentlyContinue)) { return "PostgreSQL's server programs are not installed, and this machine has no apt-get to install them" }
    if ((& id -u) -ne '0') { return "PostgreSQL's server programs are not installed, and installing Debian's postgresql needs root" }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    $output = & apt-get install -y -q postgresql 2>&1
    if ($LASTEXITCODE -ne 0) { $null = & apt-get update -q 2>&1; $output = & apt-get install -y -q postgresql 2>&1 }
    if ($bin = Find-PostgresBin) { return $bin }
    "Debian's postgresql could not be installed: $(($output | Select-Object -Last 3) -join ' ')"
}

# Starts an instance; returns it (Port, Dir, Password, ConnectionString, Bin, User) or a string: why there is none.
function Start-GoqTestPostgres([int] $Port = 0) {
    $bin = Get-PostgresBin
    if ($bin -isnot [string] -or -not (Test-Path (Join-Path $bin 'initdb'))) { return $bin }
    $isRoot = (& id -u) -eq '0'
    $user = if ($isRoot) { 'postgres' } else { [Environment]::UserName }
    if ($isRoot -and -not (& getent passwd postgres)) { return 'running PostgreSQL as root needs an unprivileged account; there is no postgres account here' }
    if ($Port -eq 0) { $Port = Get-FreePort }
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-pg-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    $password = [guid]::NewGuid().ToString('N')
    New-Item -ItemType Directory $dir | Out-Null
    $pwFile = Join-Path $dir 'pw'
    Set-Content -Path $pwFile -Value $password -NoNewline
    $data = Join-Path $dir 'data'
    $run = {
        param([string[]] $Command)
        if ($isRoot) { & runuser -u $user -- @Command 2>&1 } else { & $Command[0] @($Command | Select-Object -Skip 1) 2>&1 }
    }
    if ($isRoot) { & chown -R "$($user):" $dir; & chmod 700 $dir }
    $out = & $run @((Join-Path $bin 'initdb'), '-D', $data, '-U', 'goq', '--pwfile', $pwFile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8')
    if ($LASTEXITCODE -ne 0) { Remove-Item -Recurse -Force $dir; return "initdb failed: $(($out | Select-Object -Last 3) -join ' ')" }
    & rm -f $pwFile # the password is in the connection only from now on
    # Its own socket folder and port; fsync on (the store's promises hold only with it), a few connections.
    $options = "-p $Port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=50 -c fsync=on"
    $out = & $run @((Join-Path $bin 'pg_ctl'), '-D', $data, '-l', (Join-Path $dir 'log'), '-o', $options, '-w', '-t', '60', 'start')
    if ($LASTEXITCODE -ne 0) {
        $log = Get-Content (Join-Path $dir 'log') -ErrorAction SilentlyContinue | Select-Object -Last 3
        Remove-Item -Recurse -Force $dir
        return "pg_ctl could not start PostgreSQL: $(($out + $log | Select-Object -Last 4) -join ' ')"
    }
    [pscustomobject]@{
        Port             = $Port
        Dir              = $dir
        Data             = $data
        Bin              = $bin
        User             = $user
        Password         = $password
        ConnectionString = "Host=127.0.0.1;Port=$Port;Username=goq;Database=postgres"
    }
}

# Stops the instance (immediately: it is thrown away) and removes its folder.
function Stop-GoqTestPostgres($Instance) {
    if ($null -eq $Instance -or $Instance -is [string]) { return }
    $ctl = @((Join-Path $Instance.Bin 'pg_ctl'), '-D', $Instance.Data, '-m', 'immediate', '-w', '-t', '30', 'stop')
    if ((& id -u) -eq '0') { $null = & runuser -u $Instance.User -- @ctl 2>&1 } else { $null = & $ctl[0] @($ctl | Select-Object -Skip 1) 2>&1 }
    Remove-Item -Recurse -Force $Instance.Dir -ErrorAction SilentlyContinue
}

# Runs SQL through psql against the instance; returns psql's output (unaligned, tuples only).
function Invoke-GoqTestPostgresSql($Instance, [string] $Sql, [string] $Database = 'postgres') {
    $env:PGPASSWORD = $Instance.Password
    try { & (Join-Path $Instance.Bin 'psql') -X -q -A -t -h 127.0.0.1 -p $Instance.Port -U goq -d $Database -c $Sql 2>&1 }
    finally { $env:PGPASSWORD = $null }
}

# --- A primary with a synchronous standby, for fail-over tests ---------------------------------------------------------

# Runs a PostgreSQL program as the instance's user (runuser when this is root), with extra environment variables;
# returns its output (stdout and stderr). $LASTEXITCODE is the program's.
function Invoke-GoqTestPostgresProgram([string] $User, [string[]] $Command, [hashtable] $Environment = @{}) {
    if ((& id -u) -eq '0') {
        $envArgs = @($Environment.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" })
        & runuser -u $User -- env @envArgs @Command 2>&1
        return
    }
    $saved = @{}
    foreach ($name in $Environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $Environment[$name]) }
    try { & $Command[0] @($Command | Select-Object -Skip 1) 2>&1 }
    finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
}

# Polls $Condition (every 100 ms) until it is true or $TimeoutSec have passed; returns whether it became true.
function Wait-GoqTestPostgresCondition([scriptblock] $Condition, [double] $TimeoutSec = 30) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { return $false }
        Start-Sleep -Milliseconds 100 # poll step, bounded by the deadline above
    }
    $true
}

# Starts a primary and a standby that streams from it synchronously (synchronous_standby_names names the standby's
# application_name, synchronous_commit on: a commit is acknowledged once the standby has it on disk too). Returns
# Primary and Standby (each an instance as Start-GoqTestPostgres returns it: Stop-GoqTestPostgres and
# Invoke-GoqTestPostgresSql take either), the Password both share, the standby's ApplicationName, and a
# ConnectionString listing both hosts with Target Session Attributes=primary (without the password), with which Npgsql
# finds whichever is the primary when it opens a connection. On any failure: a string, the reason (nothing left behind).
function Start-GoqTestPostgresPair([string] $ApplicationName = 'goqstandby', [double] $TimeoutSec = 60) {
    $primary = Start-GoqTestPostgres
    if ($primary -is [string]) { return $primary }
    $standby = $null
    $fail = {
        param([string] $Reason)
        Stop-GoqTestPostgres $standby
        Stop-GoqTestPostgres $primary
        $Reason
    }
    $sql = { param([string] $Text) (Invoke-GoqTestPostgresSql $primary $Text) -join ' ' }

    # The primary, prepared for replication: a replication entry for goq from 127.0.0.1 ahead of initdb's own, WAL for
    # a replica, senders for it. Restarted only when a setting needs it (PostgreSQL's defaults already stream).
    $hba = Join-Path $primary.Data 'pg_hba.conf'
    $lines = @('# goq test pair: the standby replicates as goq from 127.0.0.1', 'host replication goq 127.0.0.1/32 scram-sha-256') + @(Get-Content $hba)
    Set-Content -Path $hba -Value $lines
    foreach ($setting in "wal_level = 'replica'", 'max_wal_senders = 10', "synchronous_commit = 'on'") {
        $out = & $sql "ALTER SYSTEM SET $setting"
        if ($out -notmatch '^\s*$') { return & $fail "could not set $setting on the primary: $out" }
    }
    $null = & $sql 'SELECT pg_reload_conf()'
    if ((& $sql 'SELECT count(*) FROM pg_settings WHERE pending_restart') -ne '0') {
        $ctl = @((Join-Path $primary.Bin 'pg_ctl'), '-D', $primary.Data, '-l', (Join-Path $primary.Dir 'log'), '-w', '-t', '60', '-m', 'fast', 'restart')
        $out = Invoke-GoqTestPostgresProgram $primary.User $ctl
        if ($LASTEXITCODE -ne 0) { return & $fail "pg_ctl could not restart the primary for replication: $(($out | Select-Object -Last 3) -join ' ')" }
    }
    if ((& $sql 'SHOW wal_level') -notin 'replica', 'logical') { return & $fail "the primary's wal_level is $(& $sql 'SHOW wal_level'), not replica" }

    # The standby: a base backup taken as the unprivileged user over a replication connection (the password from a
    # passfile of its own, which primary_conninfo, written by -R, goes on naming), in its own folder, on its own port.
    $port = Get-FreePort
    while ($port -eq $primary.Port) { $port = Get-FreePort }
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-pg-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    New-Item -ItemType Directory $dir | Out-Null
    $standby = [pscustomobject]@{
        Port             = $port
        Dir              = $dir
        Data             = Join-Path $dir 'data'
        Bin              = $primary.Bin
        User             = $primary.User
        Password         = $primary.Password
        ConnectionString = "Host=127.0.0.1;Port=$port;Username=goq;Database=postgres"
    }
    $passfile = Join-Path $dir 'passfile'
    Set-Content -Path $passfile -Value "127.0.0.1:$($primary.Port):*:goq:$($primary.Password)"
    if ((& id -u) -eq '0') { & chown -R "$($standby.User):" $dir }
    & chmod 700 $dir
    & chmod 600 $passfile
    $backup = @((Join-Path $primary.Bin 'pg_basebackup'), '-D', $standby.Data, '-R', '-X', 'stream', '-c', 'fast', '-w',
        '-d', "host=127.0.0.1 port=$($primary.Port) user=goq application_name=$ApplicationName")
    $out = Invoke-GoqTestPostgresProgram $standby.User $backup @{ PGPASSFILE = $passfile }
    if ($LASTEXITCODE -ne 0) { return & $fail "pg_basebackup could not copy the primary: $(($out | Select-Object -Last 3) -join ' ')" }
    $options = "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=50 -c fsync=on"
    $start = @((Join-Path $primary.Bin 'pg_ctl'), '-D', $standby.Data, '-l', (Join-Path $dir 'log'), '-o', $options, '-w', '-t', '60', 'start')
    $out = Invoke-GoqTestPostgresProgram $standby.User $start
    if ($LASTEXITCODE -ne 0) {
        $log = Get-Content (Join-Path $dir 'log') -ErrorAction SilentlyContinue | Select-Object -Last 3
        return & $fail "pg_ctl could not start the standby: $((@($out) + @($log) | Select-Object -Last 4) -join ' ')"
    }
    if ((Invoke-GoqTestPostgresSql $standby 'SELECT pg_is_in_recovery()') -ne 't') { return & $fail 'the standby does not run in recovery' }

    # Synchronous from now on: the primary acknowledges a commit once the standby has flushed it.
    $out = & $sql "ALTER SYSTEM SET synchronous_standby_names = '$ApplicationName'"
    if ($out -notmatch '^\s*$') { return & $fail "could not set synchronous_standby_names on the primary: $out" }
    $null = & $sql 'SELECT pg_reload_conf()'
    $query = "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$ApplicationName' AND state = 'streaming'"
    if (-not (Wait-GoqTestPostgresCondition { (& $sql $query) -eq 'sync' } $TimeoutSec)) {
        return & $fail "the standby did not become synchronous within $TimeoutSec s: pg_stat_replication says '$(& $sql "SELECT application_name, state, sync_state FROM pg_stat_replication")'"
    }
    [pscustomobject]@{
        Primary          = $primary
        Standby          = $standby
        Password         = $primary.Password
        ApplicationName  = $ApplicationName
        ConnectionString = "Host=127.0.0.1:$($primary.Port),127.0.0.1:$port;Username=goq;Database=postgres;Target Session Attributes=primary"
    }
}

# Stops both instances of a pair and removes their folders.
function Stop-GoqTestPostgresPair($Pair) {
    if ($null -eq $Pair -or $Pair -is [string]) { return }
    Stop-GoqTestPostgres $Pair.Standby
    Stop-GoqTestPostgres $Pair.Primary
}

# Stops an instance hard, as a crash would, and keeps its folder (Stop-GoqTestPostgres removes it later): an immediate
# shutdown (no checkpoint; its clients' connections are cut), or with -Kill a SIGKILL to the postmaster and then to
# every process of the instance still there. Returns once nothing of it runs; throws when something still does.
function Stop-GoqTestPostgresHard($Instance, [switch] $Kill, [double] $TimeoutSec = 30) {
    $pidFile = Join-Path $Instance.Data 'postmaster.pid'
    $postmaster = [int](Get-Content $pidFile -TotalCount 1 -ErrorAction SilentlyContinue)
    if ($Kill) {
        # Its children (backends, WAL writer, WAL senders) would end by themselves once they notice; these end now.
        $children = @(Get-Process | Where-Object { $postmaster -gt 0 -and $_.Parent.Id -eq $postmaster } | ForEach-Object Id)
        if ($postmaster -gt 0) { & kill -9 $postmaster }
        foreach ($child in $children) { & kill -9 $child 2>$null }
    } else {
        $ctl = @((Join-Path $Instance.Bin 'pg_ctl'), '-D', $Instance.Data, '-m', 'immediate', '-w', '-t', [string][int]$TimeoutSec, 'stop')
        $out = Invoke-GoqTestPostgresProgram $Instance.User $ctl
        if ($LASTEXITCODE -ne 0) { throw "pg_ctl could not stop the instance on port $($Instance.Port): $(($out | Select-Object -Last 3) -join ' ')" }
    }
    $gone = Wait-GoqTestPostgresCondition {
        $state = (Get-Content "/proc/$postmaster/stat" -ErrorAction SilentlyContinue) -replace '^\d+ \(.*\) (\S) .*$', '$1'
        $postmaster -le 0 -or $state -in @($null, '', 'Z', 'X')
    } $TimeoutSec
    if (-not $gone) { throw "the postmaster (pid $postmaster) of the instance on port $($Instance.Port) still runs" }
}

# Promotes a standby (pg_ctl promote) and waits until it takes writes: SELECT pg_is_in_recovery() is false. Throws
# with the reason when it does not within $TimeoutSec.
function Invoke-GoqTestPostgresPromotion($Instance, [double] $TimeoutSec = 60) {
    $ctl = @((Join-Path $Instance.Bin 'pg_ctl'), '-D', $Instance.Data, '-w', '-t', [string][int]$TimeoutSec, 'promote')
    $out = Invoke-GoqTestPostgresProgram $Instance.User $ctl
    if ($LASTEXITCODE -ne 0) { throw "pg_ctl could not promote the standby on port $($Instance.Port): $(($out | Select-Object -Last 3) -join ' ')" }
    if (-not (Wait-GoqTestPostgresCondition { (Invoke-GoqTestPostgresSql $Instance 'SELECT pg_is_in_recovery()') -eq 'f' } $TimeoutSec)) {
        throw "the standby on port $($Instance.Port) is still in recovery $TimeoutSec s after pg_ctl promote: $((Invoke-GoqTestPostgresSql $Instance 'SELECT pg_is_in_recovery()') -join ' ')"
    }
}
