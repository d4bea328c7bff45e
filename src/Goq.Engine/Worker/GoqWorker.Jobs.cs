using Goq.Protocol;
using Goq.Diagnostics;

namespace Goq.Worker;

/// <summary>A job's life in the worker: started, its output flushed and acknowledged, its end reported.</summary>
public sealed partial class GoqWorker
{
    /// <summary>A dispatch: started at once while a slot is free, else held until one frees (taken ahead).</summary>
    private void Accept(DispatchJob dispatch)
    {
        if (_running.ContainsKey(dispatch.JobId) || _ahead.Contains(dispatch.JobId))
        {
            return; // this one came before
        }

        if (_exiting)
        {
            Send(new JobReturned(Id, dispatch.JobId, dispatch.Attempt));
        }
        else if (HasRoomFor(dispatch))
        {
            StartJob(dispatch);
        }
        else
        {
            _ahead.Add(dispatch, Environment.TickCount64);
        }
    }

    /// <summary>Starts jobs taken ahead into the slots that are free.</summary>
    private void StartAhead()
    {
        while (!_exiting && _ahead.Peek() is { } next && HasRoomFor(next))
        {
            _ahead.Next();
            StartJob(next);
        }
    }

    /// <summary>
    /// Whether the job's slots (-SlotCount) are free. One wider than the whole worker (the server never sends such,
    /// unless the worker restarted with fewer slots) runs alone rather than never.
    /// </summary>
    private bool HasRoomFor(DispatchJob dispatch) =>
        _running.Count == 0 || _running.Values.Sum(j => j.SlotCount) + Math.Max(1, dispatch.Spec.SlotCount) <= Slots;

    /// <summary>Gives back the jobs taken ahead that waited too long for a slot (every one, with <paramref name="all"/>).</summary>
    private void ReturnStale(bool all = false)
    {
        foreach (var dispatch in _ahead.TakeStale(Environment.TickCount64, all))
        {
            _options.Log(LogEntry.Info("job.given_back", $"giving back job {dispatch.JobId}: {(all ? "exiting" : "no slot freed in time")}", job: dispatch.JobId));
            Send(new JobReturned(Id, dispatch.JobId, dispatch.Attempt));
        }
    }

    /// <summary>A job taken ahead was cancelled before it started: its end is reported like any other's.</summary>
    private void CancelledAhead(long jobId, int attempt)
    {
        _options.Log(LogEntry.Info("job.cancelled_before_start", $"cancelling job {jobId} before it started", job: jobId));
        var report = new JobFinished(Id, jobId, attempt, JobState.Cancelled, null, "cancelled before it started", null, DateTimeOffset.UtcNow, null, 0);
        _ledger?.Ended(jobId, report);
        Send(_session.Ended(report));
    }

    private void StartJob(DispatchJob dispatch)
    {
        if (_exiting || _running.ContainsKey(dispatch.JobId))
        {
            return;
        }

        // A job that runs as its owner writes its file with the owner's rights; one whose owner cannot be run as here
        // fails at its start, and its lines (the reason) go through the server.
        var owners = _options.Runner.Owners;
        var owner = dispatch.Spec.RunAsOwner ? owners?.Resolve(dispatch.Spec.Owner, out _) : null;
        var job = new RunningJob(dispatch.JobId, dispatch.Attempt, new OutputBudget(_options.JobOutputBudget, _outputBudget))
        {
            SlotCount = Math.Max(1, dispatch.Spec.SlotCount),
            File = dispatch.Output is { } target && dispatch.Spec.Kind != JobKind.ScriptBlock && SpawnedJobProcess.IsSupported && (!dispatch.Spec.RunAsOwner || owners is null || owner is not null)
                ? new JobOutputFile(target,
                    why => _options.Log(LogEntry.Warning("job.output_file_unusable", $"job {dispatch.JobId}: {why}", job: dispatch.JobId)), owner)
                : null,
        };
        _running[job.JobId] = job;
        _ledger?.Starting(job.JobId, job.Attempt); // Checkpoint: in the ledger before the job's first instruction
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [JobVariables.JobId] = job.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [JobVariables.Attempt] = job.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [JobVariables.WorkerId] = Id,
            [JobVariables.Slots] = job.SlotCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (dispatch.Spec.ArrayTask is { } task)
        {
            variables[JobVariables.ArrayId] = task.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            variables[JobVariables.ArrayJobId] = task.ArrayJobId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            variables[JobVariables.ArrayCount] = task.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        _options.Log(LogEntry.Info("job.starting", $"starting job {job.JobId} (attempt {job.Attempt})", job: job.JobId));
        // Started here on the socket thread (building the environment and spawning take a fraction of a millisecond);
        // the rest runs where the job's end is seen, and hands the result back through the inbox.
        _ = RunAsync();

        async Task RunAsync()
        {
            JobOutcome outcome;
            try
            {
                outcome = await _runner.RunAsync(
                    dispatch.Spec,
                    (pid, at) =>
                    {
                        job.Started = new RunningJob.Start(pid, at); // sent by the next output flush, or with the end if that comes first
                        Diagnostics.FaultInjection.At(Diagnostics.FaultInjection.WorkerExitAfterSpawn, job.JobId); // before its P line: the sweep's case
                        _ledger?.Spawned(job.JobId, pid); // its group dies with this worker (KeeperSentinel)
                    },
                    line =>
                    {
                        var cost = OutputBudget.CostOf(line);
                        job.Budget.Take(cost);
                        job.Pending.Enqueue(line);
                        if (job.ReadyToSend(cost, FlushAtCost))
                        {
                            _inbox.Enqueue(new WorkerCommand.FlushJob(job));
                        }
                    },
                    job.Cancel.Token,
                    variables,
                    () => job.Budget.IsFull,
                    () => job.CancelledBecause,
                    job.File,
                    code => _ledger?.Exited(job.JobId, job.Attempt, code),
                    new RunningJobRef(job.JobId, job.Attempt)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The runner turns job failures into outcomes; this is a bug in the worker, reported as a failure.
                outcome = new JobOutcome(JobState.Failed, null, $"worker error: {ex.Message}", null, null, DateTimeOffset.UtcNow);
            }

            _inbox.Enqueue(new WorkerCommand.JobEnded(job, outcome));
        }
    }

    /// <summary>
    /// A job's reader has a message's worth of lines pending, or its budget is full: they are sent now rather than at
    /// the next flush tick. (At one tick of 50 ms per budget of short lines, a job writing `seq` was held at about
    /// 5 MB/s.)
    /// </summary>
    private void FlushRequested(RunningJob job)
    {
        job.FlushTaken();
        if (_running.TryGetValue(job.JobId, out var running) && running == job)
        {
            FlushJob(job);
        }
    }

    private void Acknowledged(long jobId, int attempt)
    {
        _session.Acknowledged(jobId, attempt);
        _ledger?.Acknowledged(jobId, attempt);
        if (_byeBy is not null && !_session.AwaitsAcks)
        {
            Exit(); // the last acknowledgement the goodbye waited for
        }
        if (_ended.Remove((jobId, attempt), out var job))
        {
            job.Budget.Give(job.Unacked.Sum(OutputBudget.CostOf)); // the server has all of it: the end is only sent after the lines
            job.Unacked.Clear();
        }
    }

    private void AcknowledgeOutput(OutputAck ack)
    {
        var job = _running.GetValueOrDefault(ack.JobId) is { } running && running.Attempt == ack.Attempt
            ? running
            : _ended.GetValueOrDefault((ack.JobId, ack.Attempt));
        if (job?.File is { } file && job.WritesFile)
        {
            file.Acknowledged(ack.Lines);
            return;
        }

        if (job is null || ack.Lines <= job.AckedLines)
        {
            return;
        }

        var count = (int)Math.Min(job.Unacked.Count, ack.Lines - job.AckedLines);
        long cost = 0;
        for (var i = 0; i < count; i++)
        {
            cost += OutputBudget.CostOf(job.Unacked[i]);
        }

        job.Unacked.RemoveRange(0, count);
        job.AckedLines += count;
        job.Budget.Give(cost); // may let the job's output be read again
    }

    private void FinishJob(RunningJob job, JobOutcome outcome)
    {
        job.StartReported = true; // the end carries the start: one message and one commit fewer for short jobs
        var report = !(_exiting && !_drain);
        var last = TakePending(job);
        var (carried, from) = report && last.Count <= MaxLinesPerChunk && last.Sum(l => l.Text.Length + (l.Raw?.Length ?? 0)) <= MaxCharsPerChunk
            ? (last, job.SentLines) // the end carries the last lines: one message and one ack fewer for a short job
            : (null, 0);
        if (carried is null)
        {
            SendOutput(job, last);
        }
        else
        {
            job.Unacked.AddRange(carried);
        }

        _running.Remove(job.JobId);
        StartAhead(); // the next job goes into the slot before this one's end is even sent
        // Guarantee point: the end is in the ledger before anything else, so a keeper killed from here on loses it not:
        // the next worker on the host reports it, and the job does not run again.
        var end = report ? EndReport(job, outcome, carried, from) : null;
        _ledger?.Ended(job.JobId, end);
        Diagnostics.FaultInjection.At(Diagnostics.FaultInjection.WorkerExitAfterEnd, job.JobId);
        job.Cancel.Dispose();
        _jobsDone++;
        _options.Log(LogEntry.Info("job.done", $"done with job {job.JobId}: {outcome.State}{(outcome.ExitCode is { } code ? $" (exit code {code})" : "")}", job: job.JobId));
        if (job.File is { IsOpen: true } file)
        {
            // Its file is synced (its last line counted) off this thread; the end is reported once its lines are
            // recorded as durable, after them, as lines sent to the server are. A job killed because this worker
            // exits is not reported, but its last lines (goq's own, saying why) are, before the goodbye.
            _session.EndWaits(job.JobId, job.Attempt);
            _ = Task.Run(() => file.Sync(final: true)).ContinueWith(_ => _inbox.Enqueue(new WorkerCommand.LastOutputSynced(job, file, end)), TaskScheduler.Default);
            return;
        }

        job.File?.Dispose(); // never opened: the job wrote nothing
        if (end is not null)
        {
            ReportEnd(job, end);
        }

        ExitIfDone();
    }

    /// <summary>What another thread asked of this one (see <see cref="WorkerCommand"/>).</summary>
    private void Handle(WorkerCommand command)
    {
        switch (command)
        {
            case WorkerCommand.FlushJob flush:
                FlushRequested(flush.Job);
                break;
            case WorkerCommand.JobEnded ended:
                FinishJob(ended.Job, ended.Outcome);
                break;
            case WorkerCommand.OutputSynced synced:
                synced.Job.Syncing = false;
                SendWritten(synced.Job);
                break;
            case WorkerCommand.LastOutputSynced last:
                _session.EndReady(last.Job.JobId, last.Job.Attempt);
                last.File.Dispose();
                SendWritten(last.Job);
                if (last.End is not null)
                {
                    ReportEnd(last.Job, last.End with { TotalLines = last.Job.TotalLines }); // the sync may have counted a last line
                }

                ExitIfDone();
                break;
            case WorkerCommand.Exit exit:
                BeginExit(exit.Drain);
                break;
            default:
                throw new InvalidOperationException($"no handler for the worker command {command.GetType().Name}");
        }
    }

    private JobFinished EndReport(RunningJob job, JobOutcome outcome, List<OutputLine>? carried, long from) =>
        new(Id, job.JobId, job.Attempt, outcome.State, outcome.ExitCode, outcome.Reason, outcome.StartedAt, outcome.FinishedAt, outcome.Pid, job.TotalLines,
            carried is { Count: > 0 } ? carried : null, from, outcome.Usage);

    private void ReportEnd(RunningJob job, JobFinished finished)
    {
        var report = _session.Ended(finished);
        _ended[(job.JobId, job.Attempt)] = job;
        Send(report);
    }

    private void ExitIfDone()
    {
        if (_session.EndsWaiting)
        {
            return; // a job's end is still on its way
        }

        if (_options.OneShot && !_exiting)
        {
            BeginExit(drain: true);
        }
        else if (_exiting && _running.Count == 0)
        {
            Exit();
        }
    }

    private void FlushAll()
    {
        foreach (var job in _running.Values)
        {
            FlushJob(job);
        }
    }

    private void FlushJob(RunningJob job)
    {
        if (!job.StartReported && job.Started is { } started)
        {
            job.StartReported = true;
            Send(new JobStarted(Id, job.JobId, job.Attempt, started.Pid, started.At));
        }

        SendOutput(job, TakePending(job));
        if (job.File is { } file && !job.Syncing && file.HasUnsynced)
        {
            // The worker writes this job's file: its new lines are synced off this thread, then counted to the server.
            job.Syncing = true;
            _ = Task.Run(() => file.Sync(final: false)).ContinueWith(_ => _inbox.Enqueue(new WorkerCommand.OutputSynced(job)), TaskScheduler.Default);
        }
    }

    /// <summary>Tells the server the lines of the job's file that are on disk and not yet acknowledged.</summary>
    private void SendWritten(RunningJob job)
    {
        if (job.File?.Unacknowledged() is { } written)
        {
            Send(new JobOutputWritten(Id, job.JobId, job.Attempt, written.FromLine, written.Runs, written.End, written.Breaks));
        }
    }

    private static List<OutputLine> TakePending(RunningJob job)
    {
        var pending = new List<OutputLine>();
        while (job.Pending.TryDequeue(out var line))
        {
            pending.Add(line);
        }

        return pending;
    }

    private void SendOutput(RunningJob job, List<OutputLine> lines)
    {
        foreach (var chunk in Chunks(lines))
        {
            Send(new JobOutput(Id, job.JobId, job.Attempt, chunk, job.SentLines));
            job.Unacked.AddRange(chunk);
        }
    }

    /// <summary>Splits lines into messages well under the size limit.</summary>
    private static IEnumerable<List<OutputLine>> Chunks(IReadOnlyList<OutputLine> lines)
    {
        var chunk = new List<OutputLine>();
        var chars = 0;
        foreach (var line in lines)
        {
            if (chunk.Count > 0 && (chunk.Count >= MaxLinesPerChunk || chars + line.Text.Length + (line.Raw?.Length ?? 0) > MaxCharsPerChunk))
            {
                yield return chunk;
                chunk = [];
                chars = 0;
            }

            chunk.Add(line);
            chars += line.Text.Length + (line.Raw?.Length ?? 0);
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }
}
