BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:PrometheusMissing = Install-TestTool -Command promtool -Package prometheus

    # Jobs in two queues, one of them failed: something for every metric to count.
    function Invoke-SomeJobs {
        Start-GoqWorker -Slots 2 -Queue default, gpu | Out-Null
        $jobs = @(1..4 | ForEach-Object { Submit-GoqJob "echo job $_" }) + @(Submit-GoqJob 'exit 3' -Queue gpu)
        $jobs | Wait-GoqJob -Timeout 60 -ErrorAction SilentlyContinue | Out-Null
        # The metrics are published once a tick: wait for them to hold every end.
        $url = (Get-GoqServer -Detailed).MetricsUrl
        Wait-Until { (Invoke-WebRequest $url).Content -match 'goq_jobs_finished_total\{outcome="failed"\} 1' } -Because 'the metrics to count the jobs'
        $url
    }
}

Describe 'Metrics for Prometheus' {
    BeforeEach {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        Push-Location $goqHome
        $metricsPort = Get-FreePort
    }
    AfterEach {
        Pop-Location
        Remove-GoqTestHome $goqHome
        $env:GOQ_HOME = $null
        $env:GOQ_METRICS_PORT = $null
    }

    It 'serves /metrics on 127.0.0.1 with the jobs by state and queue, which promtool check metrics accepts' {
        Start-GoqServer -MetricsPort $metricsPort | Out-Null
        $url = Invoke-SomeJobs
        $url | Should -Be "http://127.0.0.1:$metricsPort/metrics"
        $detailed = Get-GoqServer -Detailed
        $detailed.DashboardUrl | Should -Match "^http://127\.0\.0\.1:$metricsPort/\?token=[0-9a-f]{32}$"

        $text = (Invoke-WebRequest $url).Content
        $text | Should -Match 'goq_jobs\{queue="default",state="completed"\} 4'
        $text | Should -Match 'goq_jobs\{queue="gpu",state="failed"\} 1'
        $text | Should -Match 'goq_jobs_submitted_total 5'
        $text | Should -Match 'goq_jobs_started_total 5'
        $text | Should -Match 'goq_workers 1'
        $text | Should -Match 'goq_worker_slots\{state="idle"\} 2'
        $text | Should -Match 'goq_job_run_duration_seconds_count\{outcome="completed"\} 4'
        $text | Should -Match 'goq_job_submit_to_start_seconds_count 5'
        $text | Should -Match 'goq_store_commit_duration_seconds_bucket'
        $text | Should -Match 'goq_output_written_bytes_total [1-9]'
        $text | Should -Match 'process_cpu_seconds_total [0-9.]+'
        $text | Should -Match 'process_resident_memory_bytes [1-9]'
        $text | Should -Not -Match 'echo job' -Because 'metrics carry no command, name or output'
        # Listening on this host only: the port answers on 127.0.0.1, and nobody else binds it.
        & ss -ltn "sport = :$metricsPort" | Select-Object -Skip 1 | ForEach-Object { ($_ -split '\s+')[3] } | Should -Be "127.0.0.1:$metricsPort"

        if ($PrometheusMissing) { Set-ItResult -Skipped -Because $PrometheusMissing; return }
        $checked = $text | & promtool check metrics 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "promtool found: $checked"
    }

    It 'is scraped by a real Prometheus, which answers a query for goq_jobs' {
        if ($PrometheusMissing) { Set-ItResult -Skipped -Because $PrometheusMissing; return }
        Start-GoqServer -MetricsPort $metricsPort | Out-Null
        Invoke-SomeJobs | Out-Null
        $promPort = Get-FreePort
        $config = Join-Path $goqHome 'prometheus.yml'
        @"
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: goq
    static_configs:
      - targets: ['127.0.0.1:$metricsPort']
"@ | Set-Content $config
        $prometheus = Start-Process prometheus -PassThru -RedirectStandardError (Join-Path $goqHome 'prometheus.log') -ArgumentList @(
            "--config.file=$config", "--storage.tsdb.path=$(Join-Path $goqHome 'tsdb')", "--web.listen-address=127.0.0.1:$promPort")
        try {
            $query = "http://127.0.0.1:$promPort/api/v1/query?query=" + [uri]::EscapeDataString('goq_jobs{state="completed"}')
            Wait-Until {
                $script:answer = try { Invoke-RestMethod $query } catch { $null }
                $script:answer.data.result.Count -gt 0
            } -TimeoutSec 60 -Because 'Prometheus to scrape the server and answer'
            $answer = $script:answer
            $answer.status | Should -Be 'success'
            $answer.data.result[0].metric.queue | Should -Be 'default'
            $answer.data.result[0].metric.job | Should -Be 'goq'
            $answer.data.result[0].value[1] | Should -Be '4'
            $targets = Invoke-RestMethod "http://127.0.0.1:$promPort/api/v1/targets"
            $targets.data.activeTargets[0].health | Should -Be 'up' -Because "the scrape worked ($($targets.data.activeTargets[0].lastError))"
        }
        finally {
            Stop-Process -Id $prometheus.Id -ErrorAction SilentlyContinue
        }
    }

    It 'takes its port from GOQ_METRICS_PORT or the config, listens where -MetricsAddress says, and serves nothing without one' {
        Start-GoqServer | Out-Null
        (Get-GoqServer -Detailed).MetricsUrl | Should -BeNullOrEmpty
        (Get-GoqServer -Detailed).DashboardUrl | Should -BeNullOrEmpty
        Stop-GoqServer -Confirm:$false | Out-Null

        $env:GOQ_METRICS_PORT = "$metricsPort"
        Start-GoqServer | Out-Null
        (Get-GoqServer -Detailed).MetricsUrl | Should -Be "http://127.0.0.1:$metricsPort/metrics"
        Stop-GoqServer -Confirm:$false | Out-Null
        $env:GOQ_METRICS_PORT = $null

        $configPath = Join-Path $goqHome '.goq/config.json'
        $config = Get-Content -Raw $configPath | ConvertFrom-Json
        $config | Add-Member -NotePropertyName MetricsPort -NotePropertyValue $metricsPort
        $config | ConvertTo-Json | Set-Content $configPath
        Start-GoqServer -MetricsAddress 0.0.0.0 | Out-Null
        $url = (Get-GoqServer -Detailed).MetricsUrl
        $url | Should -Be "http://$($config.ServerHost):$metricsPort/metrics" -Because 'every interface listens: the URL names the host workers reach the server at'
        (Invoke-WebRequest "http://127.0.0.1:$metricsPort/metrics").StatusCode | Should -Be 200
        & ss -ltn "sport = :$metricsPort" | Select-Object -Skip 1 | ForEach-Object { ($_ -split '\s+')[3] } | Should -Match "^(\*|0\.0\.0\.0|\[::\]):$metricsPort$"
    }

    It 'refuses to start on a metrics port another process holds, with GoqPortInUse' {
        $holder = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $metricsPort)
        $holder.Start()
        try {
            $err = { Start-GoqServer -MetricsPort $metricsPort } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'GoqPortInUse,*'
            $err.Exception.Message | Should -BeLike "*cannot serve metrics on 127.0.0.1:$metricsPort*already in use*"
            Test-Path (Join-Path $goqHome '.goq/server.pid') | Should -BeFalse -Because 'no server runs half-served'
        }
        finally {
            $holder.Stop()
        }
    }
}
