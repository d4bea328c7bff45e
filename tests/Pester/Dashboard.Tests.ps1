BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ChromiumMissing = Install-TestTool -Command chromium -Package chromium
    $script:Artifacts = Join-Path $RepoRoot 'artifacts'

    # Loads a page in headless Chromium as a person's browser would, scripts and all, and returns the DOM once its
    # scripts have run (virtual time: the page's polls and fetches run; the budget ends the wait). -Screenshot also
    # keeps a picture of it.
    function Get-ChromiumDom([string] $Url, [string] $Screenshot) {
        $profileDir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-chromium-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $common = @('--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', "--user-data-dir=$profileDir",
            '--window-size=1400,1600', '--virtual-time-budget=10000')
        try {
            if ($Screenshot) {
                $null = & chromium @common "--screenshot=$Screenshot" $Url 2>&1
            }
            (& chromium @common '--dump-dom' $Url 2>$null) -join "`n"
        }
        finally {
            Remove-Item -Recurse -Force $profileDir -ErrorAction SilentlyContinue
        }
    }

    function Get-Shown([string] $Dom, [string] $Id) {
        if ($Dom -match "id=`"$Id`"[^>]*>([^<]*)<") { $Matches[1] -replace '[^0-9]', '' } else { $null }
    }
}

Describe 'The web dashboard, in a real browser' {
    BeforeAll {
        $goqHome = New-GoqTestHome
        $env:GOQ_HOME = $goqHome
        Push-Location $goqHome
        $script:started = Start-GoqServer -MetricsPort (Get-FreePort) -InformationVariable startHint -InformationAction SilentlyContinue
        $script:startHint = $startHint
        Start-GoqWorker -Slots 2 | Out-Null
        $done = @(1..6 | ForEach-Object { Submit-GoqJob "echo dashboard line $_" -Name "dash-$_" }) + @(Submit-GoqJob 'echo to stderr >&2; exit 4' -Name 'dash-fails')
        $done | Wait-GoqJob -Timeout 60 -ErrorAction SilentlyContinue | Out-Null
        $script:held = Submit-GoqJob 'echo later' -Hold
        $script:failed = $done[-1]
        $status = Get-GoqServer -Detailed
        $script:dashboard = $status.DashboardUrl
        $script:metrics = $status.MetricsUrl
        Wait-Until { (Invoke-WebRequest $metrics).Content -match 'goq_jobs\{queue="default",state="held"\} 1' } -Because 'the server to publish the held job'
    }
    AfterAll {
        Pop-Location
        Remove-GoqTestHome $goqHome
        $env:GOQ_HOME = $null
    }

    It 'renders the summary, the chart and the job table, with the numbers Get-GoqServer gives (screenshot in artifacts/)' {
        if ($ChromiumMissing) { Set-ItResult -Skipped -Because $ChromiumMissing; return }
        New-Item -ItemType Directory -Force $Artifacts | Out-Null
        $picture = Join-Path $Artifacts 'dashboard.png'
        Remove-Item $picture -ErrorAction SilentlyContinue
        $dom = Get-ChromiumDom $dashboard -Screenshot $picture

        $dom | Should -Match 'data-ready="1"' -Because 'the page fetched its data and drew it'
        $jobs = (Get-GoqServer).Jobs
        Get-Shown $dom 'count-completed' | Should -Be "$($jobs.Completed)"
        Get-Shown $dom 'count-failed' | Should -Be "$($jobs.Failed)"
        Get-Shown $dom 'count-held' | Should -Be "$($jobs.Held)"
        Get-Shown $dom 'count-workers' | Should -Be "$((Get-GoqServer).Workers)"
        Get-Shown $dom 'count-idle' | Should -Be '2'
        $dom | Should -Match "data-rows=`"$($jobs.Total)`"" -Because 'every job is in the table (fewer than a page)'
        $dom | Should -Match 'data-rendered="[1-9]' -Because 'the chart has its points'
        $dom | Should -Match 'class="uplot' -Because 'uPlot drew the chart'
        $dom | Should -Match 'dash-fails' -Because 'the job table shows names'
        (Get-Item $picture).Length | Should -BeGreaterThan 20KB -Because 'the screenshot is kept as a test artifact'
    }

    It "opens a job's detail with the tail of its output" {
        if ($ChromiumMissing) { Set-ItResult -Skipped -Because $ChromiumMissing; return }
        $dom = Get-ChromiumDom "$dashboard#job=$($failed.Id)"
        $dom | Should -Match "data-detail=`"$($failed.Id)`""
        $dom | Should -Match 'id="detail-title">Job \d+ — dash-fails<'
        $dom | Should -Match 'echo to stderr &gt;&amp;2; exit 4' -Because 'the command is shown as text, never as markup'
        $dom | Should -Match '(?s)id="detail-output">.*to stderr'
    }

    It 'shows nothing without the token, or with a wrong one' {
        if ($ChromiumMissing) { Set-ItResult -Skipped -Because $ChromiumMissing; return }
        $bare = $dashboard -replace '\?token=.*$', ''
        foreach ($url in @($bare, "$bare`?token=00000000000000000000000000000000", "$($bare)api/jobs")) {
            $dom = Get-ChromiumDom $url
            $dom | Should -Not -Match 'count-completed|dash-|echo' -Because "$url must show nothing"
            try { Invoke-WebRequest $url | Out-Null; throw 'no 401' } catch { $_.Exception.Response.StatusCode.value__ | Should -Be 401 }
        }
        (Invoke-WebRequest $metrics).StatusCode | Should -Be 200 -Because '/metrics needs no token'
    }

    It 'tells a browser that opens the page without its token how to get its address, and still shows no data' {
        $bare = $dashboard -replace '\?token=.*$', ''
        $client = [System.Net.Http.HttpClient]::new()
        $get = { param($url) $client.GetAsync($url).GetAwaiter().GetResult() }
        try {
            foreach ($url in $bare, "$($bare)index.html") {
                $answer = & $get $url
                [int]$answer.StatusCode | Should -Be 401
                $answer.Content.Headers.ContentType.MediaType | Should -Be 'text/html'
                $page = $answer.Content.ReadAsStringAsync().GetAwaiter().GetResult()
                $page | Should -Match ([regex]::Escape('(Get-GoqServer -Detailed).DashboardUrl')) -Because 'the page says how to open it'
                $page | Should -Not -Match 'count-completed|dash-|echo|app\.js|api/' -Because 'it shows nothing of the dashboard'
            }
            foreach ($url in "$($bare)app.js", "$($bare)api/summary", "$($bare)api/jobs") {
                $answer = & $get $url
                [int]$answer.StatusCode | Should -Be 401
                $answer.Content.ReadAsStringAsync().GetAwaiter().GetResult() | Should -BeNullOrEmpty -Because "$url answers with the bare status"
            }
            [int](& $get $metrics).StatusCode | Should -Be 200 -Because '/metrics needs no token'
        }
        finally { $client.Dispose() }
    }

    It 'has Start-GoqServer -MetricsPort say where the metrics and the dashboard are' {
        $started.MetricsUrl | Should -Be $metrics
        $started.DashboardUrl | Should -Be $dashboard
        "$startHint" | Should -Match ([regex]::Escape("Metrics at $metrics; the dashboard at $dashboard"))
    }
}
