# Bench runs for the operator's side, dot-sourced by Bench.ps1: what scraping costs the scheduler, and the dashboard
# over a large store.

# A Prometheus-like scraper: a long-lived process of its own (a pwsh with one kept-alive HttpClient, as Prometheus keeps
# its connection) that GETs $Url every $IntervalMs, asking for OpenMetrics as Prometheus does, until stopped. (A curl a
# scrape spawned 20 processes a second beside the jobs': its own cost, not the server's.)
function Start-Scraper([string] $Url, [int] $IntervalMs = 100) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-Process -Id $PID).Path)
    $loop = "`$h = [System.Net.Http.HttpClient]::new(); `$h.DefaultRequestHeaders.Accept.ParseAdd('application/openmetrics-text; version=1.0.0'); " +
        "while (`$true) { `$null = `$h.GetByteArrayAsync('$Url').Result; [System.Threading.Thread]::Sleep($IntervalMs) }"
    foreach ($a in @('-NoProfile', '-NonInteractive', '-Command', $loop)) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}

# CPU seconds the server's loop thread (the scheduler: "goq-server") has used, from /proc (Linux; clock ticks of 10 ms).
function Get-LoopCpuSeconds([int] $ServerPid) {
    foreach ($task in Get-ChildItem "/proc/$ServerPid/task" -ErrorAction SilentlyContinue) {
        $stat = Get-Content -Raw (Join-Path $task.FullName 'stat') -ErrorAction SilentlyContinue
        if ($stat -match '^\d+ \(goq-server\) ') {
            $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
            return ([double]$fields[11] + [double]$fields[12]) / 100 # utime, stime
        }
    }
    $null
}

# End-to-end rate of $Count jobs with the metrics scraped every 100 ms and without, in alternating rounds of the same
# run (this machine is shared and noisy: the spread between rounds of the same kind is the noise to judge by).
function Measure-ScrapeCost([string] $GoqHome, [int] $Count, [string] $MetricsUrl, [int] $ServerPid, [int] $Rounds = 3) {
    $none = [System.Collections.Generic.List[double]]::new()
    $scraped = [System.Collections.Generic.List[double]]::new()
    $noneCpu = [System.Collections.Generic.List[double]]::new()
    $scrapedCpu = [System.Collections.Generic.List[double]]::new()
    $noneLoop = [System.Collections.Generic.List[double]]::new()
    $scraperCpu = [System.Collections.Generic.List[double]]::new() # % of a core the scraper itself used
    $scrapedLoop = [System.Collections.Generic.List[double]]::new()
    $cpu = { [double]((Invoke-WebRequest $MetricsUrl).Content -split "`n" | Where-Object { $_ -like 'process_cpu_seconds_total *' } | ForEach-Object { ($_ -split ' ')[1] }) }
    $null = Measure-Bulk $GoqHome ([math]::Min($Count, 500)) # warm: the first round of a run is slower, whatever it is
    $round = {
        param([bool] $scrape)
        $scraper = if ($scrape) { Start-Scraper $MetricsUrl 100; Start-Sleep -Seconds 2 } # its pwsh up and scraping
        try {
            $before = & $cpu
            $loopBefore = Get-LoopCpuSeconds $ServerPid
            $scraperBefore = if ($scraper) { (Get-CpuSeconds $scraper[0].Id).Own }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $rate = (Measure-Bulk $GoqHome $Count).EndToEnd
            if ($scraper) { $scraperCpu.Add(((Get-CpuSeconds $scraper[0].Id).Own - $scraperBefore) / $watch.Elapsed.TotalSeconds * 100) }
            $perJob = ((& $cpu) - $before) * 1000 / $Count
            $loopPerJob = ((Get-LoopCpuSeconds $ServerPid) - $loopBefore) * 1000 / $Count
            if ($scrape) { $scraped.Add($rate); $scrapedCpu.Add($perJob); $scrapedLoop.Add($loopPerJob) } else { $none.Add($rate); $noneCpu.Add($perJob); $noneLoop.Add($loopPerJob) }
        }
        finally {
            if ($scraper) { Stop-Process -Id $scraper[0].Id -ErrorAction SilentlyContinue }
        }
    }
    # ABBA order: a drift over the run (the host warming, another tenant) weighs on both kinds alike.
    for ($i = 0; $i -lt $Rounds; $i++) {
        $first = $i % 2 -eq 0
        & $round (-not $first)
        & $round $first
    }

    # What one scrape costs the server: its CPU over a burst of scrapes back to back, idle otherwise.
    $start = & $cpu
    $client = [System.Net.Http.HttpClient]::new()
    $burst = 500
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $burst; $i++) { $null = $client.GetStringAsync($MetricsUrl).Result }
    $perScrapeMs = $watch.Elapsed.TotalMilliseconds / $burst
    $serverCpuMs = ((& $cpu) - $start) * 1000 / ($burst + 1)
    $bytes = $client.GetStringAsync($MetricsUrl).Result.Length
    $client.Dispose()
    [pscustomobject]@{
        None = $none; Scraped = $scraped; Ratio = (Get-Median $scraped) / (Get-Median $none); NoneCpu = $noneCpu; ScrapedCpu = $scrapedCpu; NoneLoop = $noneLoop; ScrapedLoop = $scrapedLoop; ScraperCpuPct = $scraperCpu
        NoiseRatio = ($none | Measure-Object -Minimum).Minimum / ($none | Measure-Object -Maximum).Maximum
        ScrapeMs = $perScrapeMs; ServerCpuMsPerScrape = $serverCpuMs; Bytes = $bytes
    }
}

# The dashboard over the store as it is (after the history run: a million jobs): what a first load transfers, how long
# its API answers take, and how long headless Chromium takes to show it, beside the same Chromium loading a blank page.
function Measure-Dashboard([string] $DashboardUrl) {
    $base = $DashboardUrl -replace '\?token=.*$', ''
    $token = ($DashboardUrl -split 'token=')[1]
    $headers = @{ Authorization = "Bearer $token" }
    $files = @('', 'app.js', 'app.css', 'vendor/uplot/uPlot.iife.min.js', 'vendor/uplot/uPlot.min.css')
    $pageBytes = ($files | ForEach-Object { (Invoke-WebRequest "$base$_`?token=$token").RawContentLength } | Measure-Object -Sum).Sum
    $api = [ordered]@{}
    foreach ($path in @('api/summary', 'api/workers', 'api/jobs?limit=50', 'api/jobs?limit=50&state=completed', 'api/jobs?limit=50&name=nomatch*')) {
        $null = Invoke-WebRequest "$base$path" -Headers $headers # warm
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $response = Invoke-WebRequest "$base$path" -Headers $headers
        $api[$path] = '{0:N0} ms, {1:N1} kB' -f $watch.Elapsed.TotalMilliseconds, ($response.RawContentLength / 1KB)
    }
    $pageBytes += (Invoke-WebRequest "$($base)api/summary" -Headers $headers).RawContentLength + (Invoke-WebRequest "$($base)api/workers" -Headers $headers).RawContentLength +
        (Invoke-WebRequest "$($base)api/jobs?limit=50" -Headers $headers).RawContentLength

    $chromium = Get-Command chromium -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $loadMs = $null
    if ($chromium) {
        $time = {
            param($url)
            $profileDir = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-bench-chromium-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $dom = (& $chromium.Source --headless --no-sandbox --disable-gpu --no-first-run "--user-data-dir=$profileDir" --virtual-time-budget=3000 --dump-dom $url 2>$null) -join "`n"
            $ms = $watch.Elapsed.TotalMilliseconds
            Remove-Item -Recurse -Force $profileDir -ErrorAction SilentlyContinue
            [pscustomobject]@{ Ms = $ms; Ready = $dom -match 'data-ready="1"' }
        }
        $blank = @(1..3 | ForEach-Object { (& $time 'about:blank').Ms }) | Sort-Object | Select-Object -Index 1
        $runs = @(1..3 | ForEach-Object { & $time $DashboardUrl })
        if ($runs.Ready -contains $false) { Write-Warning 'the dashboard did not get ready in a Chromium run' }
        $loadMs = [pscustomobject]@{ Page = ($runs.Ms | Sort-Object | Select-Object -Index 1); Blank = $blank }
    }
    [pscustomobject]@{ PageBytes = $pageBytes; Api = $api; Load = $loadMs; Chromium = [bool]$chromium }
}
