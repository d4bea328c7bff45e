using Goq.Protocol;
using Goq.Storage;
using Goq.Timing;
using Goq.Transport;

namespace Goq.Server.Scheduling;

/// <summary>
/// What workers tell the scheduler, and what time does to them: hellos (a worker joins, comes back, lists its jobs),
/// starts and ends of jobs, jobs given back, goodbyes, silence (declared dead), lost connections, the restart grace
/// running out, and telling workers to stop. Each is an event of <see cref="Scheduler"/>, which ends it.
/// </summary>
internal sealed class WorkerEvents(SchedulerParts parts, JobLifecycle life)
{
    /// <summary>The last worker to leave (its host, lost or stopped, when): "no worker is connected" says what happened.</summary>
    public (string Host, bool Lost, DateTimeOffset At)? LastWorkerLeft { get; private set; }

    /// <summary>Records that a job's process started; a report for another lease is ignored.</summary>
    public bool JobStarted(JobStarted started, Instant now)
    {
        if (!parts.Leases.IsCurrent(started.WorkerId, started.JobId, started.Attempt, out var job))
        {
            return false;
        }

        var first = job.StartedAt is null;
        job.Pid = started.Pid;
        job.StartedAt = started.StartedAt;
        parts.Jobs.Changed(job);
        if (first)
        {
            parts.Tally.JobStarted();
            parts.Port.RunStarted(job.Clone());
        }

        return true;
    }

    /// <summary>
    /// The job whose output this worker and lease may write (fencing), or null. A job cancelled while its kill is under
    /// way may write until the kill is confirmed, unless it was removed meanwhile (Remove-GoqJob -Force): that one keeps
    /// no output. Only that case costs a look in the store; a running job cannot be removed.
    /// </summary>
    public JobInfo? OutputWriter(string workerId, long jobId, int attempt) =>
        parts.Leases.OutputWriter(workerId, jobId, attempt);

    public JobInfo? Finished(JobFinished finished)
    {
        if (parts.Leases.KillConfirmed(finished.WorkerId, finished.JobId, finished.Attempt) is { } killed)
        {
            // The kill was confirmed: the job already ended as Cancelled; only the slot comes back.
            killed.ExitCode = finished.ExitCode;
            killed.StartedAt = finished.StartedAt ?? killed.StartedAt;
            if (!parts.Leases.WasRemoved(killed.Id))
            {
                parts.Jobs.Changed(killed); // not when it was removed meanwhile (Remove-GoqJob -Force): it stays gone
            }

            life.FreeSlot(finished.WorkerId, killed.Id);
            return killed;
        }

        if (!parts.Leases.IsCurrent(finished.WorkerId, finished.JobId, finished.Attempt, out var job))
        {
            if (life.TakeBackEnded(finished) is not { } late)
            {
                // A job we did not know it ran has ended: its slot is free again.
                if (parts.Workers.TryGet(finished.WorkerId, out var reporter) && reporter.ForeignRunning > 0)
                {
                    reporter.ForeignRunning--;
                    reporter.PrefetchPaused = false;
                    parts.Workers.Refresh(reporter);
                    parts.Dispatcher.Ask();
                }

                return null;
            }

            job = late;
        }

        parts.Jobs.Transition(job, finished.State is JobState.Completed or JobState.Failed or JobState.Cancelled ? finished.State : JobState.Failed,
            finished.Reason, parts.Now.Wall);
        job.ExitCode = finished.ExitCode;
        if (job.StartedAt is null && finished.StartedAt is not null)
        {
            job.StartedAt = finished.StartedAt;
            parts.Tally.JobStarted(); // a short job's end can come before (or instead of) its start report
            parts.Port.RunStarted(job.Clone());
        }

        job.StartedAt = finished.StartedAt ?? job.StartedAt;
        job.Pid = finished.Pid ?? job.Pid;
        job.FinishedAt = finished.FinishedAt;
        job.UserCpuTime = finished.Usage is { } usage ? TimeSpan.FromMicroseconds(usage.UserCpuMicros) : null;
        job.SystemCpuTime = finished.Usage is { } used ? TimeSpan.FromMicroseconds(used.SystemCpuMicros) : null;
        job.MaxMemoryBytes = finished.Usage?.MaxRssBytes;
        if (finished.StartedAt is { } ran && parts.Workers.TryGet(finished.WorkerId, out var runner))
        {
            runner.NoteRun(finished.FinishedAt - ran);
        }

        if (life.Retried(job, parts.Now.Wall > finished.FinishedAt ? parts.Now.Wall : finished.FinishedAt))
        {
            life.FreeSlot(finished.WorkerId, job.Id);
            return job;
        }

        life.Ended(job);
        life.Settle(job, finished.FinishedAt);
        life.FreeSlot(finished.WorkerId, job.Id);
        return job;
    }

    /// <summary>
    /// Time passes: running jobs whose worker did not come back after a restart are re-queued, and workers not heard
    /// from for too long are declared dead.
    /// </summary>
    public void Tick(Instant instant)
    {
        var now = instant.Wall;
        life.ReleaseDue();
        if (parts.Grace.TakeUnclaimed(instant) is { Count: > 0 } unclaimed)
        {
            foreach (var jobId in unclaimed)
            {
                if (parts.Jobs.TryGetValue(jobId, out var job) && job.State == JobState.Running)
                {
                    life.ReturnOrphan(job, now, workerBack: false);
                }
            }

            parts.Dispatcher.Ask();
        }

        foreach (var worker in parts.Workers.All.Where(w => instant.Steady - w.LastSeenSteady > parts.Options.DeadAfter).ToList())
        {
            Gone(worker.Id, dead: true);
        }

        // A wide job may have waited long enough by now to have slots kept for it.
        if (parts.Waiting.Classes.Any(c => c.SlotCount > 1))
        {
            parts.Dispatcher.Ask();
        }
    }

    /// <summary>
    /// Whether a dispatch held back (a store outage) still hands its job to that connection: false once the job was
    /// taken back and went elsewhere, or ended, meanwhile.
    /// </summary>
    public bool IsDispatchCurrent(DispatchJob dispatch, PeerId to) =>
        parts.Jobs.TryGetValue(dispatch.JobId, out var job) && job.State == JobState.Running && job.Attempts == dispatch.Attempt
        && job.WorkerId is { } id && parts.Workers.TryGet(id, out var worker) && worker.Peer == to;

    /// <summary>Tells idle workers (and/or the named ones) to exit; they get no more jobs from now on.</summary>
    public StopWorkersReply StopWorkers(bool idle, IReadOnlyList<string>? ids, bool drain, Instant now)
    {
        var chosen = new List<WorkerEntry>();
        if (idle)
        {
            chosen.AddRange(parts.Workers.All.Where(w => w.Running.Count == 0));
        }

        var unknown = new List<string>();
        foreach (var id in ids ?? [])
        {
            if (parts.Workers.TryGet(id, out var worker))
            {
                chosen.Add(worker);
            }
            else
            {
                unknown.Add(id);
            }
        }

        var stopped = new List<WorkerInfo>();
        foreach (var worker in chosen.Distinct())
        {
            worker.Stopping = true;
            parts.Workers.Refresh(worker);
            parts.Port.Send(worker.Peer, 0, new ShutdownWorker(drain));
            stopped.Add(worker.ToInfo());
            parts.Dispatcher.Unkeep(worker);
            if (worker.Running.Count == 0)
            {
                parts.Workers.Remove(worker.Id, out _);
                LastWorkerLeft = (worker.Host, false, parts.Now.Wall);
            }
        }

        return new StopWorkersReply(stopped, unknown);
    }

    public bool Returned(JobReturned returned)
    {
        if (parts.Leases.KillConfirmed(returned.WorkerId, returned.JobId, returned.Attempt) is not null)
        {
            // It never started: nothing to wait for.
            life.FreeWorkerSlot(returned.WorkerId, returned.JobId, jobEnded: false);
            return true;
        }

        if (!parts.Leases.IsCurrent(returned.WorkerId, returned.JobId, returned.Attempt, out var job))
        {
            return false;
        }

        parts.Grace.Claimed(job.Id);
        life.ReturnUnstarted(job);
        if (parts.Workers.TryGet(returned.WorkerId, out var worker))
        {
            worker.PrefetchPaused = true;
        }

        life.FreeWorkerSlot(returned.WorkerId, returned.JobId, jobEnded: false);
        return true;
    }

    /// <summary>
    /// A worker announced itself (on connect and as its heartbeat). Says whether it was new, and which of the jobs it
    /// listed this server does not hold: the server looks those up (one cancelled while the worker was out of reach
    /// is stopped now).
    /// </summary>
    /// <param name="onlyOwner">The user whose key signed the hello (a user's own worker runs only their jobs); null: the cluster's.</param>
    public WorkerHelloOutcome WorkerHello(PeerId peer, WorkerHello hello, Instant instant, string? onlyOwner = null)
    {
        var now = instant.Wall;
        var isNew = !parts.Workers.TryGet(hello.WorkerId, out var worker);
        if (isNew)
        {
            worker = new WorkerEntry(hello.WorkerId, peer) { ConnectedAt = now, PrefetchHorizonMs = parts.Options.PrefetchHorizon.TotalMilliseconds };
            parts.Workers.Add(worker);
        }

        // Back on another connection (a new relay): dispatches sent to the old one that it does not list never arrived.
        var reconnected = !isNew && (worker.Detached || worker.Peer != peer);
        worker.Detached = false;
        worker.Peer = peer;
        worker.OnlyOwner = onlyOwner;
        worker.Host = hello.Host;
        worker.Pid = hello.Pid;
        worker.Slots = Math.Max(1, hello.Slots);
        worker.Prefetch = Math.Max(0, hello.Prefetch);
        worker.OneShot = hello.OneShot;
        worker.Version = hello.Version;
        worker.LastSeen = now;
        worker.LastSeenSteady = instant.Steady;
        if (hello.Queues is { Count: > 0 } queues && !worker.Queues.SetEquals(queues))
        {
            worker.Queues = new HashSet<string>(queues, StringComparer.Ordinal);
        }

        if (hello.Labels is { } labels && !worker.Labels.SetEquals(labels))
        {
            worker.Labels = new HashSet<string>(labels, StringComparer.Ordinal);
        }

        var foreign = new List<RunningJobRef>();
        var reported = new HashSet<long>();
        foreach (var running in hello.Running)
        {
            if (parts.Leases.IsCurrentOrKilling(worker.Id, running.JobId, running.Attempt, out var job))
            {
                reported.Add(job.Id);
                worker.Running.Add(job.Id, job.SlotCount);
                parts.Grace.Claimed(job.Id);
            }
            else if (life.TakeBack(worker, running) is { } takenBack)
            {
                reported.Add(takenBack.Id);
            }
            else
            {
                foreign.Add(running);
            }
        }

        // The worker has seen our dispatches up to LastDispatch: a job handed over in one of them that it does not
        // list never reached it (lost with a dropped connection), so it goes back to the front of the queue. Only
        // numbers from this server run count; hellos queued before it say nothing about our dispatches.
        var fresh = hello.Epoch == parts.Epoch;
        var seen = fresh ? hello.LastDispatch : 0;
        foreach (var jobId in worker.Running.Where(id => !reported.Contains(id)
                     && worker.DispatchedSeq.TryGetValue(id, out var seq) && (seq <= seen || reconnected)).ToList())
        {
            worker.Running.Remove(jobId);
            worker.DispatchedSeq.Remove(jobId);
            if (parts.Jobs.TryGetValue(jobId, out var lost))
            {
                life.ReturnUnstarted(lost);
            }
            else
            {
                parts.Leases.ForgetKill(jobId);
            }
        }

        // After a restart, a worker's hello sent once it heard from this run (it carries our epoch) lists every job it
        // holds: whatever the server before us handed it had reached it first. So one of its jobs it does not list is
        // not running: a hand-off it never confirmed (committed, then the server died before sending it) goes back to
        // its place in the queue as if never handed out; one it had confirmed was lost with the worker's state and
        // counts as an attempt. A hello from before (queued while we were down, or sent as the old server's last
        // dispatch was on its way) may miss a job the worker did get: it proves nothing, and we answer it with our
        // epoch so the worker's next hello does. (Guarantee point: absence never re-runs a job a worker still holds.)
        if (fresh)
        {
            foreach (var jobId in parts.Grace.Orphans.Where(id => !reported.Contains(id) && parts.Jobs.TryGetValue(id, out var j) && j.WorkerId == worker.Id).ToList())
            {
                parts.Grace.Claimed(jobId);
                life.ReturnOrphan(parts.Jobs[jobId], now, workerBack: true);
            }
        }

        // Jobs we do not know (we restarted and lost them) still take the worker's slots until it reports them done.
        worker.ForeignRunning = foreign.Count;
        parts.Workers.Refresh(worker);
        parts.Dispatcher.Ask();
        return new WorkerHelloOutcome(isNew, foreign, !fresh);
    }

    public void Gone(string workerId, bool dead)
    {
        var now = parts.Now.Wall;
        if (!parts.Workers.Remove(workerId, out var worker))
        {
            return;
        }

        LastWorkerLeft = (worker.Host, dead, now);
        parts.Dispatcher.Unkeep(worker);

        foreach (var jobId in worker.Running.OrderDescending())
        {
            if (parts.Leases.ForgetKill(jobId))
            {
                continue; // already ended as Cancelled
            }

            if (parts.Jobs.TryGetValue(jobId, out var job))
            {
                var attempt = job.Attempts;
                life.Requeue(job, dead, now);
                if (dead)
                {
                    life.RememberTakenFrom(job, worker.Id, attempt);
                }
            }
        }

        parts.Dispatcher.Ask();
    }

    /// <summary>
    /// A connection is gone (a send to it failed): forget its watches, and send its worker nothing more. The worker is
    /// not declared dead for it: a worker whose relay died (its jobs kept by its job keeper) comes back under a new
    /// connection and lists its jobs, and one that never comes back is declared dead by the dead-worker time (Tick).
    /// Declaring it dead here failed jobs that its keeper was running to their end. (Guarantee point.)
    /// </summary>
    public void PeerLost(PeerId peer, Instant now)
    {
        parts.Watches.RemovePeer(peer);
        foreach (var worker in parts.Workers.All.Where(w => w.Peer == peer))
        {
            worker.Detached = true;
            parts.Workers.Refresh(worker);
        }
    }
}
