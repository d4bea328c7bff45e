using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Goq.Monitoring;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Monitoring;

/// <summary>The server's HTTP side over a real listener, a real durable server and its store: metrics, the token, the job table's pages.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class MonitorEndpointTests : IAsyncLifetime
{
    private readonly ServerMetrics _metrics = new();
    private readonly Cluster _cluster;
    private readonly MonitorEndpoint _endpoint;
    private readonly HttpClient _http = new();
    private readonly string _token;

    public MonitorEndpointTests()
    {
        _cluster = new Cluster(heartbeatMs: 200, durable: true, metrics: _metrics);
        _token = DashboardToken.Derive(_cluster.Credentials.Secret);
        _endpoint = MonitorEndpoint.Start("127.0.0.1", FreePort(), "127.0.0.1", _metrics, _token, () => _cluster.Store.OpenReader(), _ => { });
    }

    private string Base => _endpoint.MetricsUrl[..^"metrics".Length];

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task InitializeAsync()
    {
        _cluster.AddWorker(slots: 2);
        for (var i = 1; i <= 30; i++)
        {
            await _cluster.RunAsync(new JobSpec { Kind = JobKind.Shell, Command = i % 10 == 0 ? "echo oops; exit 3" : $"echo line {i}", Name = i % 2 == 0 ? $"even-{i}" : $"odd-{i}" });
        }

        await Wait.UntilAsync(() => _metrics.Snapshot.Count(JobState.Completed) + _metrics.Snapshot.Count(JobState.Failed) == 30, what: "the snapshot to count every job");
    }

    private async Task<JsonElement> ApiAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Metrics_NeedNoToken_AndCountTheJobsByStateAndQueue()
    {
        using var response = await _http.GetAsync(_endpoint.MetricsUrl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("goq_jobs{queue=\"default\",state=\"completed\"} 27", text);
        Assert.Contains("goq_jobs{queue=\"default\",state=\"failed\"} 3", text);
        Assert.Contains("goq_jobs_finished_total{outcome=\"failed\"} 3", text);
        Assert.Contains("goq_jobs_submitted_total 30", text);
        Assert.Contains("goq_workers 1", text);
        Assert.Contains("goq_worker_slots{state=\"idle\"} 2", text);
        Assert.DoesNotContain("echo", text); // no command, name or output
        Assert.DoesNotContain("even-", text);

        using var openMetrics = new HttpRequestMessage(HttpMethod.Get, _endpoint.MetricsUrl);
        openMetrics.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        using var om = await _http.SendAsync(openMetrics);
        Assert.StartsWith("application/openmetrics-text", om.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("# EOF\n", await om.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("app.js")]
    [InlineData("api/summary")]
    [InlineData("api/jobs")]
    [InlineData("api/job?id=1")]
    public async Task WithoutTheToken_EveryDashboardRequestGets401_AndThePageOnlySaysHowToOpenIt(string path)
    {
        foreach (var url in new[] { Base + path, Base + path + (path.Contains('?') ? "&" : "?") + "token=0123456789abcdef0123456789abcdef" })
        {
            using var response = await _http.GetAsync(url);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            if (path.Length == 0)
            {
                // The page a browser opens says how to open it with its token, and shows nothing of the server's.
                Assert.Contains("DashboardUrl", body);
                Assert.DoesNotContain(_token, body);
                Assert.DoesNotContain("app.js", body);
            }
            else
            {
                Assert.Empty(body);
            }
        }
    }

    [Fact]
    public async Task ThePage_CarriesTheTokenToItsFiles_AndForbidsFramingAndReferrers()
    {
        using var response = await _http.GetAsync($"{Base}?token={_token}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains($"app.js?token={_token}", page);
        Assert.DoesNotContain("{{token}}", page);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        using var script = await _http.GetAsync($"{Base}vendor/uplot/uPlot.iife.min.js?token={_token}");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        using var post = await _http.PostAsync($"{Base}api/summary?token={_token}", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task TheJobTable_PagesNewestFirst_AndFilters()
    {
        var first = await ApiAsync("api/jobs?limit=8");
        var ids = first.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(23, 8).Reverse().Select(i => (long)i), ids);
        var second = await ApiAsync($"api/jobs?limit=8&before={first.GetProperty("next").GetInt64()}");
        Assert.Equal(22, second.GetProperty("jobs")[0].GetProperty("id").GetInt64());

        var failed = await ApiAsync("api/jobs?state=failed");
        Assert.Equal([30L, 20, 10], failed.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()));
        Assert.False(failed.TryGetProperty("next", out _));
        var named = await ApiAsync("api/jobs?name=even-1");
        Assert.Equal([18L, 16, 14, 12, 10], named.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()));
        Assert.Empty((await ApiAsync("api/jobs?queue=gpu")).GetProperty("jobs").EnumerateArray());

        var detail = await ApiAsync("api/job?id=10");
        Assert.Equal("echo oops; exit 3", detail.GetProperty("commandLine").GetString());
        Assert.Equal("oops\n", detail.GetProperty("outputTail").GetString());
        using var missing = new HttpRequestMessage(HttpMethod.Get, $"{Base}api/job?id=999&token={_token}");
        Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(missing)).StatusCode);
    }

    [Fact]
    public void AFilteredPage_SearchesABoundedRangeOfIds_AndGoesOnFromWhereItStopped()
    {
        // Windows of 4 ids, at most 8 a page: the name is read from each row, so a page never reads them all.
        using var api = new DashboardApi(_metrics, new ActivityHistory(), () => _cluster.Store.OpenReader(), scanWindow: 4, maxScan: 8);
        var pages = new List<(long[] Ids, long? Next, long? SearchedTo)>();
        var before = long.MaxValue;
        do
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                api.Jobs(json, null, "even-2*", null, before, 50);
            }

            var page = JsonDocument.Parse(buffer.ToArray()).RootElement;
            long? Number(string name) => page.TryGetProperty(name, out var value) ? value.GetInt64() : null;
            pages.Add(([.. page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64())], Number("next"), Number("searchedTo")));
            before = Number("next") ?? 0;
        }
        while (before > 0 && pages.Count < 20);

        Assert.Equal([28L, 26, 24, 22, 20, 2], pages.SelectMany(p => p.Ids)); // every match, newest first, none twice
        Assert.All(pages.SkipLast(1), p => Assert.NotNull(p.SearchedTo));
        Assert.Null(pages[^1].Next);
        Assert.True(pages.Count >= 4, $"a page searched at most 8 ids ({pages.Count} pages)");
    }

    [Fact]
    public async Task TheSummary_AgreesWithTheServersStatus()
    {
        var summary = await ApiAsync("api/summary");
        var status = await _cluster.Client.GetStatusAsync(countStates: true);
        Assert.Equal(status.Jobs!.Completed, summary.GetProperty("states").GetProperty("completed").GetInt64());
        Assert.Equal(status.Jobs.Failed, summary.GetProperty("states").GetProperty("failed").GetInt64());
        Assert.Equal(status.Workers, summary.GetProperty("workers").GetInt32());
        Assert.Equal(status.NextJobId, summary.GetProperty("server").GetProperty("nextJobId").GetInt64());
        Assert.NotEmpty(summary.GetProperty("history").EnumerateArray());
    }

    public Task DisposeAsync()
    {
        _endpoint.Dispose();
        _http.Dispose();
        _cluster.Dispose();
        _metrics.Dispose();
        return Task.CompletedTask;
    }
}
