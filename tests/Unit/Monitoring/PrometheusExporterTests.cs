using System.Diagnostics.Metrics;
using System.Text;
using Goq.Monitoring;

namespace Goq.Tests.Monitoring;

/// <summary>System.Diagnostics.Metrics instruments written for Prometheus: names, kinds, labels, both formats.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly string _meterName = $"Goq.Test.{Guid.NewGuid():N}"; // a meter of its own: other tests' instruments never mix in
    private readonly Meter _meter;
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests()
    {
        _exporter = new PrometheusExporter(_meterName);
        _meter = new Meter(_meterName);
    }

    private async Task<string> ScrapeAsync(bool openMetrics = false)
    {
        using var stream = new MemoryStream();
        await _exporter.WriteAsync(stream, openMetrics, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task CountersGaugesAndHistograms_KeepTheirKind_WithPrometheusNames()
    {
        var queues = new Dictionary<string, long> { ["default"] = 3, ["gpu"] = 1 };
        _meter.CreateObservableCounter("goq.jobs.submitted", () => 42L, "{job}", "Jobs submitted.");
        _meter.CreateObservableGauge("goq.jobs", () => queues.Select(q => new Measurement<long>(q.Value, new KeyValuePair<string, object?>("queue", q.Key))), "{job}");
        var commit = _meter.CreateHistogram("goq.store.commit.duration", "s", "Commit time.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01] });
        var written = _meter.CreateCounter<long>("goq.output.written", "By");
        commit.Record(0.005);
        written.Add(100);
        written.Add(28);

        var text = await ScrapeAsync();
        Assert.Contains("# TYPE goq_jobs_submitted_total counter", text);
        Assert.Contains("goq_jobs_submitted_total 42", text);
        Assert.Contains("# TYPE goq_jobs gauge", text);
        Assert.Contains("goq_jobs{queue=\"default\"} 3", text);
        Assert.Contains("goq_jobs{queue=\"gpu\"} 1", text);
        Assert.Contains("# TYPE goq_store_commit_duration_seconds histogram", text);
        Assert.Contains("goq_store_commit_duration_seconds_bucket{le=\"0.001\"} 0", text);
        Assert.Contains("goq_store_commit_duration_seconds_bucket{le=\"0.01\"} 1", text);
        Assert.Contains("goq_output_written_bytes_total 128", text);

        // A label set that is no longer observed is gone at the next scrape, not stuck at its last value.
        queues.Remove("gpu");
        text = await ScrapeAsync();
        Assert.DoesNotContain("queue=\"gpu\"", text);
        Assert.Contains("goq_jobs{queue=\"default\"} 3", text);
    }

    [Fact]
    public async Task OpenMetrics_NamesCounterFamiliesWithoutTotal_AndEndsWithEof()
    {
        _meter.CreateObservableCounter("goq.jobs.started", () => 7L, "{job}");
        var text = await ScrapeAsync(openMetrics: true);
        Assert.Contains("# TYPE goq_jobs_started counter", text);
        Assert.Contains("goq_jobs_started_total 7", text);
        Assert.EndsWith("# EOF\n", text);
        Assert.True(PrometheusExporter.WantsOpenMetrics("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"));
        Assert.False(PrometheusExporter.WantsOpenMetrics("text/plain"));
        Assert.False(PrometheusExporter.WantsOpenMetrics(null));
    }

    [Fact]
    public async Task TheProcesssOwnCpuAndMemory_ComeUnderTheNamesEveryPrometheusClientUses()
    {
        using var process = new ProcessMetrics();
        using var exporter = new PrometheusExporter(ProcessMetrics.MeterName);
        using var stream = new MemoryStream();
        await exporter.WriteAsync(stream, openMetrics: false, CancellationToken.None);
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n');
        double Value(string name) => double.Parse(lines.First(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", lines);
        Assert.InRange(Value("process_cpu_seconds_total"), 0.01, 1e6);
        Assert.InRange(Value("process_resident_memory_bytes"), 10e6, 100e9);
        Assert.True(Value("process_virtual_memory_bytes") >= Value("process_resident_memory_bytes"));
        Assert.InRange(Value("process_threads"), 2, 10_000);
        Assert.InRange(Value("process_start_time_seconds"), DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Contains(lines, l => l.StartsWith("dotnet_gc_collections_total{generation=\"gen0\"}", StringComparison.Ordinal));
    }

    [Fact]
    public void Names_FollowOpenTelemetrysRules()
    {
        Assert.Equal("goq_job_run_duration_seconds", PrometheusExporter.PrometheusName(_meter.CreateHistogram<double>("goq.job.run.duration", "s")));
        Assert.Equal("goq_dead_worker_resubmits_total", PrometheusExporter.PrometheusName(_meter.CreateCounter<long>("goq.dead_worker.resubmits", "{job}")));
        Assert.Equal("goq_output_written_bytes_total", PrometheusExporter.PrometheusName(_meter.CreateCounter<long>("goq.output.written", "By")));
        Assert.Equal("goq_workers", PrometheusExporter.PrometheusName(_meter.CreateObservableGauge("goq.workers", () => 1, "{worker}")));
    }

    public void Dispose()
    {
        _meter.Dispose();
        _exporter.Dispose();
    }
}
