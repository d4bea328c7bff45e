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
