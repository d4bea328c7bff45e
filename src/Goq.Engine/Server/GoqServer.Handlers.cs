using Goq.Hosting;
using Goq.Errors;
using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server;

/// <summary>What the server does with each kind of message (on its loop thread, between drain and commit).</summary>
public sealed partial class GoqServer
{
    private void Apply(PeerId peer, Envelope envelope)
    {
        var now = Instant.Now;
        var rid = envelope.Rid;
        // A batch sent again that was taken before the store went down is not refused: it is queued (staged), and its
        // answer goes out with the commit that stores it.
        if (StoreOutage.IsChange(envelope.Body) && (_outage.IsDown || _outage.SpaceShort())
            && !(envelope.Body is SubmitJobs { BatchId: { Length: > 0 } resent } && _queries.SeenBatch(resent) is not null))
        {
            Reply(peer, rid, _outage.Refusal()); // Checkpoint: nothing is decided that cannot be stored
            return;
        }

        // Output too: below the free space a commit needs, lines are not written (they would take the last of it).
        if (StoreOutage.IsWorkerReport(envelope.Body) && (_outage.IsDown || (envelope.Body is JobOutput && _outage.SpaceShort())))
        {
            return; // not acknowledged: the worker sends it again with its next heartbeat
        }

        switch (envelope.Body)
        {
            case SubmitJobs submit:
                // An empty batch id names no batch (PowerShell passes "" for a $null string): never one to answer from.
                var batchId = string.IsNullOrEmpty(submit.BatchId) ? null : submit.BatchId;
                var error = JobSpecValidator.Validate(submit.Jobs, submit.SharedEnvironment, checkSizes: _frameBytes > FrameCodec.MaxJobBytes);
                var specs = error is not null || submit.SharedEnvironment is null
                    ? submit.Jobs
                    : submit.Jobs.Select(j => j with { CapturedEnvironment = submit.SharedEnvironment }).ToList();
                if (error is not null)
                {
                    Reply(peer, rid, new ErrorReply(error.Value.ErrorId, error.Value.Message, GoqErrorKind.InvalidArgument));
                }
                else if (_queries.SeenBatch(batchId) is { } seen)
                {
                    Reply(peer, rid, new SubmitJobsReply(seen));
                }
                else if (_queries.MissingDependency(specs) is { } missing)
                {
                    Reply(peer, rid, new ErrorReply(GoqErrorIds.DependencyNotFound,
                        $"job {missing.Index + 1} of the batch depends on job {missing.Id}, which does not exist (never submitted, or removed)", GoqErrorKind.NotFound));
                }
                else
                {
                    Reply(peer, rid, new SubmitJobsReply(_scheduler.Submit(specs, now, batchId, _queries.EndedState)));
                }

                break;
            case GetJobs get when _pageReads is { Pending: < MaxPagesAsked }:
                // Its rows are read off this thread once this turn is committed (see ReadPages).
                _pagesToRead.Add(_queries.PlanPage(get.Ids, get.States, get.AfterId, get.Limit, get.Filter) with { Peer = peer, Rid = rid });
                break;
            case GetJobs get: // no reader, or many pages asked already: read here, which slows the askers down
                Reply(peer, rid, _queries.GetJobs(get.Ids, get.States, get.AfterId, get.Limit, get.Filter));
                break;
            case GetServerStatus getStatus:
                Reply(peer, rid, new ServerStatusReply(Status(getStatus.CountStates, getStatus.Detailed)));
                break;
            case GetWorkers:
                Reply(peer, rid, new WorkersReply(_scheduler.GetWorkers()));
                break;
            case WatchJobs watch:
                Reply(peer, rid, _queries.Watch(peer, rid, watch.Ids));
                break;
            case UnwatchJobs unwatch:
                _scheduler.Unwatch(peer, unwatch.WatchRid);
                break;
            case ReadOutput read:
                Reply(peer, rid, ReadOutput(read));
                break;
            case GetOutputMap map:
                Reply(peer, rid, OutputMap(map.JobId, map.Records));
                break;
            case ReadOutputBytes bytes:
                Reply(peer, rid, ReadBytes(bytes));
                break;
            case CancelJobs cancel:
                Reply(peer, rid, _queries.Cancel(cancel.Ids ?? [], now));
                break;
            case SetJobs set:
                Reply(peer, rid, _queries.Change(set, now) as GoqMessage
                    ?? new ErrorReply(GoqErrorIds.InvalidJobSpec, "a change needs job ids and what to change", GoqErrorKind.InvalidArgument));
                break;
            case RestartJobs restart when restart.Ids is null:
                Reply(peer, rid, new ErrorReply(GoqErrorIds.InvalidJobSpec, "a restart needs job ids", GoqErrorKind.InvalidArgument));
                break;
            case RestartJobs restart:
                Reply(peer, rid, _queries.Restart(restart.Ids, restart.IncludeDependents, now));
                break;
            case GetQueues:
                Reply(peer, rid, new QueuesReply(_scheduler.GetQueues()));
                break;
            case SetQueue setQueue when !NameRules.IsValid(setQueue.Name) || setQueue.ThrottleLimit < 0:
                Reply(peer, rid, new ErrorReply(GoqErrorIds.InvalidQueue,
                    $"a queue name is 1 to {NameRules.MaxLength} letters, digits, '-', '_' or '.', and a throttle limit is 0 (no cap) or more", GoqErrorKind.InvalidArgument));
                break;
            case SetQueue setQueue:
                Reply(peer, rid, new QueuesReply([_scheduler.SetQueueLimit(setQueue.Name, setQueue.ThrottleLimit)]));
                break;
            case RemoveJobs remove:
                Reply(peer, rid, _queries.Remove(remove.Ids, remove.States));
                break;
            case DismissJobs dismiss:
                Reply(peer, rid, _queries.Dismiss(dismiss.Ids ?? []));
                break;
            case StopWorkers stop:
                Reply(peer, rid, _scheduler.StopWorkers(stop.Idle, stop.Ids, stop.Drain));
                break;
            case ShutdownServer:
                _options.Log(LogEntry.Info("server.shutdown_requested", "shutdown requested"));
                Reply(peer, rid, new Ack());
                _stopRequested = true;
                _stopReason = "asked to stop (Stop-GoqServer)";
                break;
            case WorkerHello hello when WorkerHelloValidator.Validate(hello) is { } invalid:
                _droppedMalformed++;
                _options.Log(LogEntry.Warning("worker.hello_invalid", $"dropped a worker announcement: {invalid}"));
                Reply(peer, rid, new ErrorReply(GoqErrorIds.WorkerStartFailed, $"the server refused this worker's announcement: {invalid}", GoqErrorKind.InvalidArgument));
                break;
            case WorkerHello hello:
                if (_hostKey is not null && hello.HostKey == _hostKey)
                {
                    _sameHostWorkers.Add(hello.WorkerId);
                }
                else
                {
                    _sameHostWorkers.Remove(hello.WorkerId);
                }

                var outcome = _scheduler.WorkerHello(peer, hello, now);
                foreach (var stop in _queries.CancelledForeign(outcome.Foreign))
                {
                    Reply(peer, 0, stop); // cancelled while we could not reach its worker: stopped now
                }

                if (outcome.IsNew)
                {
                    _options.Log(LogEntry.Info("worker.connected", $"worker {hello.WorkerId} on {hello.Host} (pid {hello.Pid}, {hello.Slots} slots) connected", worker: hello.WorkerId));
                }

                if (outcome.IsNew || outcome.FromEarlierRun)
                {
                    Reply(peer, rid, new WorkerHelloReply(_options.HeartbeatMs, _scheduler.Epoch));
                }

                break;
            case WorkerBye bye:
                _options.Log(LogEntry.Info("worker.left", $"worker {bye.WorkerId} left", worker: bye.WorkerId));
                _scheduler.WorkerGone(bye.WorkerId, dead: false, now);
                break;
            case JobStarted started:
                _scheduler.JobStarted(started);
                break;
            case JobOutput output:
                AppendOutput(peer, output);
                break;
            case JobOutputWritten written:
                RecordOutput(peer, written);
                break;
            case JobReturned returned:
                if (!_scheduler.JobReturned(returned, now))
                {
                    _staleReports++;
                    _options.Log(LogEntry.Warning("job.stale_return", $"ignored a stale return of job {returned.JobId} attempt {returned.Attempt} from worker {returned.WorkerId}", job: returned.JobId, worker: returned.WorkerId));
                }

                break;
            case JobFinished finished:
                if (finished.Lines is { Count: > 0 } last)
                {
                    StoreOutput(finished.WorkerId, finished.JobId, finished.Attempt, finished.FromLine, last); // its ack is the end's
                }

                if (finished.TotalLines is { } total && _scheduler.OutputWriter(finished.WorkerId, finished.JobId, finished.Attempt) is { } writer
                    && _output.AttemptLines(writer, finished.Attempt) < total)
                {
                    // Some of its output is missing (lost with a connection or a crash): no ack, so the worker sends
                    // the missing lines and this report again with its next heartbeat.
                    _options.Log(LogEntry.Info("job.output_incomplete", $"job {finished.JobId}: waiting for the rest of its output before taking its end", job: finished.JobId, worker: finished.WorkerId));
                    break;
                }

                if (_scheduler.JobFinished(finished, now) is { } job)
                {
                    if (_output.Close(job.Id) is { } index)
                    {
                        _store.SaveOutputIndex(job.Id, index);
                    }
                }
                else
                {
                    _staleReports++;
                    _options.Log(LogEntry.Warning("job.stale_report", $"ignored a stale report for job {finished.JobId} attempt {finished.Attempt} from worker {finished.WorkerId}", job: finished.JobId, worker: finished.WorkerId));
                }

                // Checkpoint: the ack goes out after the commit that holds the result (or its rejection), on the
                // dispatch to this worker in the same turn if there is one, else on its own (see Flush).
                AddAck(peer, new RunningJobRef(finished.JobId, finished.Attempt));
                break;
            default:
                _droppedMalformed++;
                _options.Log(LogEntry.Warning("message.unexpected", $"dropped an unexpected {envelope.Body.GetType().Name}"));
                break;
        }
    }

    private void AppendOutput(PeerId peer, JobOutput output)
    {
        if (StoreOutput(output.WorkerId, output.JobId, output.Attempt, output.FromLine, output.Lines ?? []) is { } lines)
        {
            Reply(peer, 0, new OutputAck(output.JobId, output.Attempt, lines));
        }
    }

    /// <summary>A worker wrote lines to the job's file itself: they are recorded (and acknowledged) as if the server had.</summary>
    private void RecordOutput(PeerId peer, JobOutputWritten written)
    {
        if (_scheduler.OutputWriter(written.WorkerId, written.JobId, written.Attempt) is not { } job)
        {
            // Not this lease's: acknowledged all the same, so the worker lets go (as for lines, in StoreOutput).
            Reply(peer, 0, new OutputAck(written.JobId, written.Attempt, written.FromLine + (written.StderrRuns ?? []).Sum()));
            return;
        }

        var before = job.OutputPath;
        if (_output.Record(job, written.Attempt, written.FromLine, written.StderrRuns ?? [], written.End, written.Breaks) is { } index)
        {
            // Checkpoint: the worker synced the lines before it said so; the index that counts them and the ack go out
            // with this turn's commit.
            _store.SaveOutputIndex(job.Id, index);
            if (job.OutputPath != before)
            {
                _store.Update(job);
            }
        }

        Reply(peer, 0, new OutputAck(job.Id, written.Attempt, _output.AttemptLines(job, written.Attempt)));
    }

    /// <summary>
    /// Appends an attempt's lines to its job's output; returns how many lines of the attempt to acknowledge, or null
    /// when they could not be written (no ack: the worker sends them again).
    /// </summary>
    private long? StoreOutput(string workerId, long jobId, int attempt, long fromLine, IReadOnlyList<OutputLine> lines)
    {
        if (_scheduler.OutputWriter(workerId, jobId, attempt) is not { } job)
        {
            // Not this lease's (fenced off), or a job removed while its kill was under way: acknowledged all the same,
            // so the worker lets go of them and the job, whose output the worker holds back until acknowledged, is never
            // blocked by lines nobody will take.
            return fromLine + lines.Count;
        }

        try
        {
            var before = job.OutputPath;
            if (_output.Append(job, attempt, fromLine, lines) is { } index)
            {
                // Checkpoint: the lines, the index that counts them and the ack go out with this turn's commit.
                _store.SaveOutputIndex(job.Id, index);
                if (job.OutputPath != before)
                {
                    _store.Update(job); // the output path is part of the job's record
                }
            }

            return _output.AttemptLines(job, attempt);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _options.Log(LogEntry.Error("job.output_write_failed", $"job {job.Id}: writing output failed: {ex.Message}", job: job.Id));
            return null;
        }
    }

    private GoqMessage ReadOutput(ReadOutput read)
    {
        if (_queries.Job(read.JobId) is not { } job)
        {
            return new ErrorReply(GoqErrorIds.JobNotFound, $"no job with id {read.JobId}", GoqErrorKind.NotFound);
        }

        var terminal = job.State.IsTerminal();
        var max = Math.Clamp(read.MaxLines, 1, MaxOutputPage);
        // Checkpoint (sizes): a page is bounded by bytes as well as lines, so no output can make a reply too large.
        var records = read.Records && job.Kind == JobKind.ScriptBlock;
        var page = _output.Read(job, read.FromLine, read.FromOffset, max, OutputPageBytes, records);
        var complete = terminal && (_output.LineCount(job, records) is { } count ? page.NextLine >= count : page.Lines.Count == 0);
        return new OutputReply(job.Id, page.Lines, page.NextLine, complete, job.State, page.NextOffset, records, job.WorkerHost);
    }

    private GoqMessage ReadBytes(ReadOutputBytes read)
    {
        if (_queries.Job(read.JobId) is not { } job)
        {
            return new ErrorReply(GoqErrorIds.JobNotFound, $"no job with id {read.JobId}", GoqErrorKind.NotFound);
        }

        var terminal = job.State.IsTerminal();
        if (_output.Range(job) is not var (path, start, bytes) || read.Offset >= bytes)
        {
            return new OutputBytesReply(job.Id, [], Math.Max(0, read.Offset), terminal, job.State);
        }

        var offset = Math.Max(0, read.Offset);
        var data = new byte[(int)Math.Min(bytes - offset, OutputPageBytes)];
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            file.Position = start + offset;
            data = data[..file.ReadAtLeast(data, data.Length, throwOnEndOfStream: false)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ErrorReply(GoqErrorIds.ServerError, $"reading the output of job {job.Id} failed: {ex.Message}");
        }

        var next = offset + data.Length;
        return new OutputBytesReply(job.Id, data, next, terminal && (next >= bytes || data.Length == 0), job.State); // a file cut short ends it too
    }

    private GoqMessage OutputMap(long jobId, bool records)
    {
        if (_queries.Job(jobId) is not { } job)
        {
            return new ErrorReply(GoqErrorIds.JobNotFound, $"no job with id {jobId}", GoqErrorKind.NotFound);
        }

        var terminal = job.State.IsTerminal();
        records = records && job.Kind == JobKind.ScriptBlock;
        return _output.Map(job, records) is { } map
            ? new OutputMapReply(job.Id, map.Path, map.Index.StartOffset, map.Index.Bytes, map.Index.Lines, map.Index.StderrRuns, map.Head, map.Tail, terminal, job.State,
                records, job.WorkerHost, map.Index.Breaks)
            : new OutputMapReply(job.Id, null, 0, 0, 0, [], "", "", terminal, job.State, records, job.WorkerHost);
    }
}
