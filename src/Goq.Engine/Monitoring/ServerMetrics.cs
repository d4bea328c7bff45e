using System.Diagnostics.Metrics;

namespace Goq.Monitoring;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics, meter <c>Goq.Server</c>). Gauges and counters are observed
/// from the last <see cref="MetricsSnapshot"/> the loop thread published, so a scrape reads nothing the loop is
/// changing and costs it nothing; the histograms are recorded by the loop as things happen. Names and units follow
/// OpenTelemetry's conventions, which exporters turn into Prometheus names (<c>goq.jobs.submitted</c> into
/// <c>goq_jobs_submitted_total</c>, <c>goq.job.run.duration</c> in seconds into <c>goq_job_run_duration_seconds</c>).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "Goq.Server";

    /// <summary>Seconds from submit to start: a fresh process starts in milliseconds, a queued job may wait for hours.</summary>
    private static readonly double[] WaitBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400];

    private static readonly double[] RunBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200];

    private static readonly double[] CommitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Meter _meter = new(MeterName, GoqVersion.Current);
    private readonly Histogram<double> _submitToStart;
    private readonly Histogram<double> _runTime;
    private readonly Histogram<double> _commit;
    private MetricsSnapshot _snapshot = MetricsSnapshot.Empty;

    public ServerMetrics()
    {
        _meter.CreateObservableGauge("goq.jobs", () => Snapshot.Jobs.Select(j =>
            new Measurement<long>(j.Value, new("queue", j.Key.Queue), new("state", StateLabel(j.Key.State)))), "{job}",
            "Jobs the server holds, by state and queue (ended ones until Remove-GoqJob removes them).");
        _meter.CreateObservableGauge("goq.server.role", () => new[] { "active", "standby" }.Select(role =>
            new Measurement<int>(role == Role ? 1 : 0, new KeyValuePair<string, object?>("role", role))), "{server}",
            "1 for this server's role: active (it serves) or standby (one of several servers on a PostgreSQL store, waiting to take over).");
        _meter.CreateObservableGauge("goq.server.epoch", () => Snapshot.Status.Epoch ?? 0, "{epoch}",
            "The store lease's epoch this server serves under (0: a SQLite store, or standing by); one more at every take-over.");
        _meter.CreateObservableGauge("goq.workers", () => Snapshot.Workers.Count, "{worker}", "Workers connected to the server.");
        _meter.CreateObservableGauge("goq.worker.slots", () => new[]
        {
            new Measurement<int>(Snapshot.BusySlots, new KeyValuePair<string, object?>("state", "busy")),
            new Measurement<int>(Snapshot.Status.WaitingWorkers, new KeyValuePair<string, object?>("state", "idle")),
        }, "{slot}", "Worker slots, busy running a job or idle.");
        _meter.CreateObservableCounter("goq.jobs.submitted", () => Snapshot.Submitted, "{job}", "Jobs submitted since the server started (each task of an array counts).");
        _meter.CreateObservableCounter("goq.jobs.started", () => Snapshot.Started, "{job}", "Job runs whose process started, since the server started.");
        _meter.CreateObservableCounter("goq.jobs.finished", () => Snapshot.Finished.Select(f =>
            new Measurement<long>(f.Value, new KeyValuePair<string, object?>("outcome", StateLabel(f.Key)))), "{job}",
            "Jobs that ended since the server started, by outcome.");
        _meter.CreateObservableCounter("goq.dead_worker.resubmits", () => Snapshot.Status.DeadWorkerResubmits, "{job}",
            "Jobs queued again because their worker was found dead (kept across restarts).");
        _meter.CreateObservableCounter("goq.stale_reports", () => Snapshot.Status.StaleReports, "{report}",
            "Reports from a worker that no longer held the job's lease, ignored.");
        _meter.CreateObservableCounter("goq.messages.dropped", () => new[]
        {
            new Measurement<long>(Snapshot.Status.DroppedBadSignatures, new KeyValuePair<string, object?>("reason", "bad_signature")),
            new Measurement<long>(Snapshot.Status.DroppedReplays, new KeyValuePair<string, object?>("reason", "replay")),
            new Measurement<long>(Snapshot.Status.DroppedMalformed, new KeyValuePair<string, object?>("reason", "malformed")),
        }, "{message}", "Messages dropped unanswered: a wrong signature, a replay or a stamp too far off, or a malformed one.");
        _meter.CreateObservableCounter("goq.requests.denied", () => Snapshot.Status.DeniedRequests, "{request}",
            "Requests of a multi-user cluster's users refused for lack of rights (another user's job, an Admin's action), and messages signed with a revoked key.");
        _meter.CreateObservableCounter("goq.output.written", () => Snapshot.OutputBytes, "By", "Bytes of job output the server wrote since it started.");
        _submitToStart = _meter.CreateHistogram("goq.job.submit_to_start", "s", "Seconds from a job's submit to its process's start.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WaitBuckets });
        _runTime = _meter.CreateHistogram("goq.job.run.duration", "s", "Seconds a job's process ran, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RunBuckets });
        _commit = _meter.CreateHistogram("goq.store.commit.duration", "s", "Seconds each commit of the job store took (one per busy turn of the loop).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBuckets });
    }

    /// <summary>active or standby (see the goq_server_role gauge); set by whoever runs the server.</summary>
    public string Role
    {
        get => Volatile.Read(ref _role);
        set => Volatile.Write(ref _role, value);
    }

    private string _role = "active";

    /// <summary>The last snapshot the loop published.</summary>
    public MetricsSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Called by the server's loop thread only.</summary>
    public void Publish(MetricsSnapshot snapshot) => Volatile.Write(ref _snapshot, snapshot);

    public void JobStarted(JobInfo job)
    {
        if (job.StartedAt is { } started)
        {
            _submitToStart.Record(Math.Max(0, (started - job.SubmittedAt).TotalSeconds));
        }
    }

    public void JobEnded(JobInfo job)
    {
        if (job.StartedAt is { } started && job.FinishedAt is { } finished)
        {
            _runTime.Record(Math.Max(0, (finished - started).TotalSeconds), new KeyValuePair<string, object?>("outcome", StateLabel(job.State)));
        }
    }

    public void Committed(TimeSpan took) => _commit.Record(took.TotalSeconds);

    /// <summary>A state as a label value: lower case, words joined by '_' (<c>dependency_failed</c>).</summary>
    public static string StateLabel(JobState state) => state switch
    {
        JobState.DependencyFailed => "dependency_failed",
        _ => state.ToString().ToLowerInvariant(),
    };

    public void Dispose() => _meter.Dispose();
}
