BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $env:GOQ_HEARTBEAT_SEC = '1' # dead workers in seconds, not tens of seconds
}
AfterAll { $env:GOQ_HEARTBEAT_SEC = $null }

# A worker on the server's host writes a command or program job's output file itself; only counts go to the server.
Describe 'Output written by the worker' {
    BeforeEach {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        $work = Join-Path $goqHome 'work'
        New-Item -ItemType Directory $work | Out-Null
        Push-Location $work
    }
    AfterEach {
        Pop-Location
        Remove-GoqTestHome $goqHome
        $env:GOQ_HOME = $null
        $env:GOQ_WORKER_WRITES_OUTPUT = $null
    }

    It 'keeps the job''s bytes as it wrote them, stdout and stderr interleaved, and gives them back as lines with their streams' {
        Start-GoqServer | Out-Null
        $null = Start-GoqWorker -Slots 1
        $done = Submit-GoqJob "printf 'a\r\nb\n'; sleep 0.1; printf 'e1\n' >&2; sleep 0.1; printf 'x\377y\n'; printf 'tail'" | Wait-GoqJob -Timeout 60
        $done.State | Should -Be 'Completed'

        # The file holds the job's bytes as written (CR, 0xFF, a last line without a newline); the reader decodes them.
        [IO.File]::ReadAllBytes($done.OutputPath) | Should -Be ([Text.Encoding]::Latin1.GetBytes("a`r`nb`ne1`nx$([char]0xFF)y`ntail"))
        $lines = @(Receive-GoqJob $done.Id -ErrorAction Continue 2>&1)
        $lines | Should -HaveCount 5
        $lines[0] | Should -Be 'a'
        $lines[2] | Should -BeOfType [System.Management.Automation.ErrorRecord]
        "$($lines[2])" | Should -Be 'e1'
        $lines[3] | Should -Be "x$([char]0xFFFD)y"
        $lines[4] | Should -Be 'tail'
    }

    It 'gives the exact bytes back with -AsByteStream, from the file or through the server: NUL, 0xFF, CR and 2 MB of random bytes' {
        Start-GoqServer | Out-Null
        $null = Start-GoqWorker -Slots 1
        $small = Submit-GoqJob "printf 'a\377b\000c\tx\r\n'; sleep 0.2; printf 'err\r\n' >&2" | Wait-GoqJob -Timeout 60 # two pipes: apart in time, so their order is known
        $expected = [byte[]](0x61, 0xFF, 0x62, 0x00, 0x63, 0x09, 0x78, 0x0D, 0x0A, 0x65, 0x72, 0x72, 0x0D, 0x0A)
        $local = Receive-GoqJob $small.Id -AsByteStream
        $local.GetType() | Should -Be ([byte[]]) -Because 'a small output is one chunk'
        $local | Should -Be $expected
        $viaServer = Receive-GoqJob $small.Id -AsByteStream -ViaServer
        $viaServer | Should -Be $expected

        $random = Join-Path $work 'random.bin'
        & sh -c "head -c 2000000 /dev/urandom > '$random'"
        $big = Submit-GoqJob "cat '$random'" | Wait-GoqJob -Timeout 60
        $big.State | Should -Be 'Completed'
        # Each chunk comes down the pipeline as one byte[]: joined, then hashed.
        $sha = { $all = [IO.MemoryStream]::new(); foreach ($chunk in $input) { $all.Write($chunk, 0, $chunk.Length) }; [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($all.ToArray())) }
        $want = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($random)))
        Receive-GoqJob $big.Id -AsByteStream | & $sha | Should -Be $want -Because 'every byte, read from the file'
        Receive-GoqJob $big.Id -AsByteStream -ViaServer | & $sha | Should -Be $want -Because 'every byte, through the server'
    }

    It 'keeps the job''s bytes exactly when its lines go through the server (GOQ_WORKER_WRITES_OUTPUT=0, as for a worker on another host): CR, 0xFF, NUL, a last line without a newline, 2 MB of random bytes' {
        $env:GOQ_WORKER_WRITES_OUTPUT = '0'
        Start-GoqServer | Out-Null
        $null = Start-GoqWorker -Slots 1
        $done = Submit-GoqJob "printf 'a\r\nb\n'; printf 'a\377b\000c\tx\r\n'; sleep 0.1; printf 'err\n' >&2; sleep 0.1; printf 'tail'" | Wait-GoqJob -Timeout 60
        [IO.File]::ReadAllBytes($done.OutputPath) | Should -Be ([Text.Encoding]::Latin1.GetBytes("a`r`nb`na$([char]0xFF)b$([char]0)c`tx`r`nerr`ntail"))
        $lines = @(Receive-GoqJob $done.Id -ErrorAction Continue 2>&1)
        $lines | Should -HaveCount 5
        $lines[0..2] | Should -Be 'a', 'b', "a$([char]0xFFFD)b$([char]0)c`tx"
        $lines[3] | Should -BeOfType [System.Management.Automation.ErrorRecord]
        "$($lines[3])" | Should -Be 'err'
        $lines[4] | Should -Be 'tail'

        $random = Join-Path $work 'random.bin'
        & sh -c "head -c 2000000 /dev/urandom > '$random'"
        $big = Submit-GoqJob "cat '$random'" | Wait-GoqJob -Timeout 60
        $big.State | Should -Be 'Completed'
        $want = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($random)))
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($big.OutputPath))) | Should -Be $want -Because 'the file is the job''s bytes'
        $sha = { $all = [IO.MemoryStream]::new(); foreach ($chunk in $input) { $all.Write($chunk, 0, $chunk.Length) }; [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($all.ToArray())) }
        Receive-GoqJob $big.Id -AsByteStream -ViaServer | & $sha | Should -Be $want
    }

    It 'keeps a line longer than 32 KiB whole in the file and reads it back as pieces, from the file and through the server (written by the <Writer>)' -ForEach @(
        @{ Writer = 'worker'; Writes = $null }
        @{ Writer = 'server'; Writes = '0' }
    ) {
        $env:GOQ_WORKER_WRITES_OUTPUT = $Writes
        Start-GoqServer | Out-Null
        $null = Start-GoqWorker -Slots 1
        $done = Submit-GoqJob "head -c 100000 /dev/zero | tr '\000' x; echo; printf 'tail'" | Wait-GoqJob -Timeout 60
        $done.State | Should -Be 'Completed'
        $bytes = [IO.File]::ReadAllBytes($done.OutputPath)
        $bytes.Length | Should -Be 100005 -Because 'nothing is put into the file'
        @($bytes | Where-Object { $_ -eq 10 }) | Should -HaveCount 1 -Because 'the job wrote one newline'
        foreach ($via in $false, $true) {
            $lines = @(Receive-GoqJob $done.Id -ViaServer:$via)
            $lines | ForEach-Object Length | Should -Be 32768, 32768, 32768, 1696, 4 -Because "pieces of at most 32 KiB, read $(if ($via) { 'through the server' } else { 'from the file' })"
            $lines[-1] | Should -Be 'tail'
        }
    }

    It 'keeps every recorded line whole when the worker and its keeper are killed -9 mid-output, and the next attempt writes after them' {
        Start-GoqServer | Out-Null
        $first = Start-GoqWorker -Slots 1
        # The first attempt writes until it is killed; the second writes 1,000 lines and ends.
        $job = Submit-GoqJob 'if [ $GOQ_JOB_ATTEMPT = 1 ]; then i=0; while :; do i=$((i+1)); echo "one-$i"; done; else seq 1 1000 | sed "s/^/two-/"; fi'
        Wait-Until { (Get-GoqJob $job.Id).OutputPath -and (Get-Item (Get-GoqJob $job.Id).OutputPath -ErrorAction SilentlyContinue).Length -gt 1MB } -TimeoutSec 60 -Because 'the first attempt to write a megabyte'
        $keeper = Get-GoqKeeperPid $goqHome $first.Id
        Stop-Process -Id $keeper, $first.Pid -Force
        Wait-Until { -not (Test-ProcessAlive $keeper) -and -not (Test-ProcessAlive $first.Pid) } -Because 'the worker and its keeper to die'

        $second = Start-GoqWorker -Slots 1 # ends the copy left behind; the job runs again here
        $done = Wait-GoqJob $job.Id -Timeout 90
        $done.State | Should -Be 'Completed'
        $done.Attempts | Should -Be 2
        $done.WorkerId | Should -Be $second.Id

        $lines = @(Receive-GoqJob $job.Id)
        $ones = @($lines | Where-Object { $_ -like 'one-*' })
        $twos = @($lines | Where-Object { $_ -like 'two-*' })
        $lines.Count | Should -Be ($ones.Count + $twos.Count) -Because 'no line is cut or glued to another'
        $ones | Should -Be (1..$ones.Count | ForEach-Object { "one-$_" }) -Because 'the first attempt''s recorded lines are whole and in order'
        $twos | Should -Be (1..1000 | ForEach-Object { "two-$_" })
        $lines[-1] | Should -Be 'two-1000'
        # Nothing unrecorded is left in the file between the attempts: it holds exactly the lines read back.
        (Get-Content $done.OutputPath) | Should -Be $lines
    }
}
