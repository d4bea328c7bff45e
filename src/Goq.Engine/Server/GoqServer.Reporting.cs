using System.Diagnostics;
using Goq.Monitoring;
using Goq.Diagnostics;

namespace Goq.Server;

/// <summary>
/// What the server reports about itself: its status (Get-GoqServer), and what it tells its metrics: a snapshot each
/// tick, the histograms as things happen (on the loop thread).
/// </summary>
public sealed partial class GoqServer
{
    /// <summary>Counts the ended jobs the store holds, once, and publishes the first snapshot; nothing when metrics are off.</summary>
    private void StartMetrics()
    {
        if (_options.Metrics is not { } metrics)
        {
            return;
        }

        _effects.OnRunStarted = metrics.JobStarted;
        _effects.OnJobEnded = metrics.JobEnded;
        if (_store.OpenReader() is not { } reader)
        {
            _scheduler.Tally.Load(_store.CountEnded());
            PublishMetrics();
            return;
        }

        // Counting a million ended jobs by queue takes seconds: it is done on a thread of its own, over the store as it
        // is now (pinned here, before this loop changes anything), and the jobs that end, restart or go meanwhile are
        // counted by the tally on top of it. The loop serves from the start; until the count comes, the metrics show
        // the active jobs only.
        reader.PinSnapshot();
        PublishMetrics();
        var started = Stopwatch.GetTimestamp();
        _ = Task.Run(() =>
        {
            try
            {
                var counts = reader.CountEnded();
                var took = Stopwatch.GetElapsedTime(started);
                _poller.Run(() =>
                {
                    _scheduler.Tally.Load(counts);
                    _options.Log(LogEntry.Info("metrics.counted", $"metrics: counted the stored jobs by queue in {took.TotalMilliseconds:0} ms"));
                    PublishMetrics();
                });
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _options.Log(LogEntry.Error("metrics.count_failed", $"metrics: counting the stored jobs failed, so goq_jobs shows the active ones only: {ex.Message}"));
            }
            finally
            {
                reader.Dispose();
            }
        });
    }

    /// <summary>Commits the turn, timing the commit when there is something to write and metrics are on.</summary>
    private void CommitTurn()
    {
        if (_options.Metrics is not { } metrics || !_store.HasChanges)
        {
            TryCommit();
            return;
        }

        var started = Stopwatch.GetTimestamp();
        if (TryCommit())
        {
            metrics.Committed(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Commits what is staged. A store that cannot take it (disk full, read-only, I/O error) puts the server in an
    /// outage rather than ending it (see <see cref="StoreOutage"/>): false, and the staged changes stay for the next try.
    /// </summary>
    private bool TryCommit()
    {
        if (_outage.IsDown && !_outage.MayTry())
        {
            return false; // tried a moment ago: what is staged waits
        }

        // Never a commit on a disk without room: a write the WAL index (a mapped file) cannot take kills the process.
        if ((_outage.IsDown || _store.HasChanges) && _outage.SpaceShort())
        {
            return false;
        }

        if (_store.HasChanges)
        {
            try
            {
                _store.Commit();
            }
            catch (Storage.StoreFencedException fenced)
            {
                StepDown(fenced.Message);
                return false;
            }
            catch (Exception ex) when (StoreOutage.CauseOf(ex) is { } cause)
            {
                _outage.Down(cause, ex.Message);
                return false;
            }
        }

        if (_outage.IsDown)
        {
            _heldBack.AddRange(_outage.Up()); // the commit that stored them has been made: they go first
        }

        return true;
    }

    /// <summary>
    /// Publishes what the scheduler holds now, for scrapes and the dashboard to read from other threads. It costs a
    /// look at each class of waiting jobs and each worker, never each waiting job; once a tick, not once a scrape, so
    /// however often Prometheus scrapes, the loop does the same work.
    /// </summary>
    private void PublishMetrics()
    {
        if (_options.Metrics is not { } metrics)
        {
            return;
        }

        var tally = _scheduler.Tally;
        var jobs = new Dictionary<(string Queue, JobState State), long>(_scheduler.CountActive());
        if (tally.Loaded)
        {
            foreach (var (key, count) in tally.Stored)
            {
                jobs[key] = jobs.GetValueOrDefault(key) + count;
            }
        }

        var workers = _scheduler.GetWorkers();
        metrics.Publish(new MetricsSnapshot
        {
            At = DateTimeOffset.UtcNow,
            Jobs = jobs,
            Workers = workers,
            BusySlots = workers.Sum(w => Math.Min(w.Slots, w.BusySlots)),
            Submitted = tally.Submitted,
            Started = tally.Started,
            Finished = new Dictionary<JobState, long>(tally.Ended),
            OutputBytes = _output.BytesWritten,
            Status = Status(detailed: true),
        });
    }

    private ServerStatus Status(bool countStates = false, bool detailed = false, bool all = false) => new()
    {
        Role = "Active",
        Epoch = _options.Lease?.Epoch,
        ActiveSince = _options.Lease?.ActiveSince,
        Store = _options.StoreKind,
        Servers = all ? ClusterServers() : null,
        Uptime = detailed ? DateTimeOffset.UtcNow - StartedAt : null,
        StoreBytes = detailed && _options.StorePath is { } store ? StoreSize(store) : null,
        StorePath = detailed ? _options.StorePath : null,
        LogPath = detailed ? _options.LogPath : null,
        MetricsUrl = detailed ? _options.MetricsUrl : null,
        Jobs = countStates ? _queries.CountStates() : null,
        Endpoint = Endpoint,
        ServerPid = Environment.ProcessId,
        ServerHost = Environment.MachineName,
        RunningJobs = _scheduler.RunningJobs,
        WaitingJobs = _scheduler.WaitingJobs,
        BlockedJobs = _scheduler.BlockedJobs,
        HeldJobs = _scheduler.HeldJobs,
        WaitingWorkers = _scheduler.IdleSlots,
        Workers = _scheduler.WorkerCount,
        WatchedJobs = _scheduler.WatchedJobs,
        FinishedJobs = _store.Counters.FinishedJobs,
        CancelledJobs = _store.Counters.CancelledJobs,
        NextJobId = _store.NextJobId,
        DeadWorkerResubmits = _store.Counters.DeadWorkerResubmits,
        StaleReports = _staleReports,
        StoreUnavailable = _outage.Cause,
        DroppedMalformed = _droppedMalformed,
        DroppedBadSignatures = _droppedBadSignatures,
        DeniedRequests = _access.Denied + _workerClaims.Refused,
        MultiUser = _access.Users is not null,
        Users = _access.Users?.Count ?? 0,
        DroppedReplays = _droppedReplays,
        StartedAt = StartedAt,
        Version = GoqVersion.Current,
        Home = _options.Home,
    };

    private List<ClusterServer> ClusterServers()
    {
        try
        {
            return _options.ClusterServers?.Invoke() ?? [new ClusterServer { Endpoint = Endpoint, Role = "Active" }];
        }
        catch (Exception ex) when (StoreOutage.CauseOf(ex) is not null)
        {
            return [new ClusterServer { Endpoint = Endpoint, Role = "Active" }]; // the others are not known while the store cannot be read
        }
    }

    // The database with its write-ahead log and shared-memory index: what the store takes on disk.
    private static long StoreSize(string path) =>
        new[] { path, path + "-wal", path + "-shm" }.Select(f => new FileInfo(f)).Where(f => f.Exists).Sum(f => f.Length);
}
