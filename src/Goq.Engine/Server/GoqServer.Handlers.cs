using System.Collections.Frozen;
using Goq.Errors;
using Goq.Protocol;

using Goq.Timing;
using Goq.Diagnostics;
using Goq.Transport;

namespace Goq.Server;

/// <summary>
/// What the server does with each kind of message (on its loop thread, between drain and commit): one handler per kind
/// a client may send (<see cref="ClientRequest"/>) or a worker may send (<see cref="WorkerReport"/>), registered in
/// <see cref="Handlers"/>. A test holds every such kind to having its handler, so a new kind cannot be dropped unseen.
/// </summary>
public sealed partial class GoqServer
{
    /// <summary>Who sent a message, the request id to answer, and the turn's time.</summary>
    internal readonly record struct Inbound(PeerId Peer, long Rid, Instant Now);

    internal delegate void Handler(GoqServer server, GoqMessage message, Inbound from);

    /// <summary>The handler of each message kind the server receives.</summary>
    internal static readonly FrozenDictionary<Type, Handler> Handlers = new Dictionary<Type, Handler>
    {
        // What clients ask.
        [typeof(SubmitJobs)] = On<SubmitJobs>((s, m, from) => s.Submit(m, from)),
        [typeof(GetJobs)] = On<GetJobs>((s, m, from) => s.GetJobs(m, from)),
        [typeof(GetServerStatus)] = On<GetServerStatus>((s, m, from) => s.Reply(from.Peer, from.Rid, new ServerStatusReply(s.Status(m.CountStates, m.Detailed)))),
        [typeof(GetWorkers)] = On<GetWorkers>((s, _, from) => s.Reply(from.Peer, from.Rid, new WorkersReply(s._scheduler.GetWorkers()))),
        [typeof(WatchJobs)] = On<WatchJobs>((s, m, from) => s.Reply(from.Peer, from.Rid, s._queries.Watch(from.Peer, from.Rid, m.Ids))),
        [typeof(UnwatchJobs)] = On<UnwatchJobs>((s, m, from) => s._scheduler.Unwatch(from.Peer, m.WatchRid)),
        [typeof(ReadOutput)] = On<ReadOutput>((s, m, from) => s.Reply(from.Peer, from.Rid, s.ReadOutput(m))),
        [typeof(GetOutputMap)] = On<GetOutputMap>((s, m, from) => s.Reply(from.Peer, from.Rid, s.OutputMap(m.JobId, m.Records))),
        [typeof(ReadOutputBytes)] = On<ReadOutputBytes>((s, m, from) => s.Reply(from.Peer, from.Rid, s.ReadBytes(m))),
        [typeof(CancelJobs)] = On<CancelJobs>((s, m, from) => s.Reply(from.Peer, from.Rid, s._queries.Cancel(m.Ids ?? [], from.Now))),
        [typeof(SetJobs)] = On<SetJobs>((s, m, from) => s.SetJobs(m, from)),
        [typeof(RestartJobs)] = On<RestartJobs>((s, m, from) => s.RestartJobs(m, from)),
        [typeof(GetQueues)] = On<GetQueues>((s, _, from) => s.Reply(from.Peer, from.Rid, new QueuesReply(s._scheduler.GetQueues()))),
        [typeof(SetQueue)] = On<SetQueue>((s, m, from) => s.SetQueue(m, from)),
        [typeof(RemoveJobs)] = On<RemoveJobs>((s, m, from) => s.Reply(from.Peer, from.Rid, s._queries.Remove(m.Ids, m.States, from.Now))),
        [typeof(DismissJobs)] = On<DismissJobs>((s, m, from) => s.Reply(from.Peer, from.Rid, s._queries.Dismiss(m.Ids ?? []))),
        [typeof(StopWorkers)] = On<StopWorkers>((s, m, from) => s.Reply(from.Peer, from.Rid, s._scheduler.StopWorkers(m.Idle, m.Ids, m.Drain, from.Now))),
        [typeof(ShutdownServer)] = On<ShutdownServer>((s, _, from) => s.Shutdown(from)),

        // What workers report.
        [typeof(WorkerHello)] = On<WorkerHello>((s, m, from) => s.WorkerHello(m, from)),
        [typeof(WorkerBye)] = On<WorkerBye>((s, m, from) => s.WorkerBye(m, from)),
        [typeof(JobStarted)] = On<JobStarted>((s, m, from) => s._scheduler.JobStarted(m, from.Now)),
        [typeof(JobOutput)] = On<JobOutput>((s, m, from) => s.AppendOutput(from.Peer, m)),
        [typeof(JobOutputWritten)] = On<JobOutputWritten>((s, m, from) => s.RecordOutput(from.Peer, m)),
        [typeof(JobReturned)] = On<JobReturned>((s, m, from) => s.JobReturned(m, from)),
        [typeof(JobFinished)] = On<JobFinished>((s, m, from) => s.JobFinished(m, from)),
    }.ToFrozenDictionary();

    private static Handler On<T>(Action<GoqServer, T, Inbound> handle) where T : GoqMessage => (server, message, from) => handle(server, (T)message, from);

    private void Apply(PeerId peer, Envelope envelope)
    {
        var from = new Inbound(peer, envelope.Rid, Instant.Now);
        // A batch sent again that was taken before the store went down is not refused: it is queued (staged), and its
        // answer goes out with the commit that stores it.
        if (StoreOutage.IsChange(envelope.Body) && (_outage.IsDown || _outage.SpaceShort())
            && !(envelope.Body is SubmitJobs { BatchId: { Length: > 0 } resent } && _queries.SeenBatch(resent) is not null))
        {
            Reply(peer, from.Rid, _outage.Refusal()); // Checkpoint: nothing is decided that cannot be stored
            return;
        }

        // Output too: below the free space a commit needs, lines are not written (they would take the last of it).
        if (StoreOutage.IsWorkerReport(envelope.Body) && (_outage.IsDown || (envelope.Body is JobOutput && _outage.SpaceShort())))
        {
            return; // not acknowledged: the worker sends it again with its next heartbeat
        }

        if (Handlers.TryGetValue(envelope.Body.GetType(), out var handle))
        {
            handle(this, envelope.Body, from);
            return;
        }

        // A reply or a notice sent to the server: a peer that does not speak the protocol as it should.
        _droppedMalformed++;
        _options.Log(LogEntry.Warning("message.unexpected", $"dropped an unexpected {envelope.Body.GetType().Name}"));
    }

    private void Submit(SubmitJobs submit, Inbound from)
    {
        // An empty batch id names no batch (PowerShell passes "" for a $null string): never one to answer from.
        var batchId = string.IsNullOrEmpty(submit.BatchId) ? null : submit.BatchId;
        var error = JobSpecValidator.Validate(submit.Jobs, submit.SharedEnvironment, checkSizes: _frameBytes > FrameCodec.MaxJobBytes);
        var specs = error is not null || submit.SharedEnvironment is null
            ? submit.Jobs
            : submit.Jobs.Select(j => j with { CapturedEnvironment = submit.SharedEnvironment }).ToList();
        if (error is not null)
        {
            Reply(from.Peer, from.Rid, new ErrorReply(error.Value.ErrorId, error.Value.Message, GoqErrorKind.InvalidArgument));
        }
        else if (_queries.SeenBatch(batchId) is { } seen)
        {
            Reply(from.Peer, from.Rid, new SubmitJobsReply(seen));
        }
        else if (_queries.MissingDependency(specs) is { } missing)
        {
            Reply(from.Peer, from.Rid, new ErrorReply(GoqErrorIds.DependencyNotFound,
                $"job {missing.Index + 1} of the batch depends on job {missing.Id}, which does not exist (never submitted, or removed)", GoqErrorKind.NotFound));
        }
        else
        {
            Reply(from.Peer, from.Rid, new SubmitJobsReply(_scheduler.Submit(specs, from.Now, batchId, _queries.EndedState)));
        }
    }

    private void GetJobs(GetJobs get, Inbound from)
    {
        if (_pageReads is { Pending: < MaxPagesAsked })
        {
            // Its rows are read off this thread once this turn is committed (see ReadPages).
            _pagesToRead.Add(_queries.PlanPage(get.Ids, get.States, get.AfterId, get.Limit, get.Filter) with { Peer = from.Peer, Rid = from.Rid });
        }
        else
        {
            // No reader, or many pages asked already: read here, which slows the askers down.
            Reply(from.Peer, from.Rid, _queries.GetJobs(get.Ids, get.States, get.AfterId, get.Limit, get.Filter));
        }
    }

    private void SetJobs(SetJobs set, Inbound from) =>
        Reply(from.Peer, from.Rid, _queries.Change(set, from.Now) as GoqMessage
            ?? new ErrorReply(GoqErrorIds.InvalidJobSpec, "a change needs job ids and what to change", GoqErrorKind.InvalidArgument));

    private void RestartJobs(RestartJobs restart, Inbound from) =>
        Reply(from.Peer, from.Rid, restart.Ids is null
            ? new ErrorReply(GoqErrorIds.InvalidJobSpec, "a restart needs job ids", GoqErrorKind.InvalidArgument)
            : _queries.Restart(restart.Ids, restart.IncludeDependents, from.Now));

    private void SetQueue(SetQueue setQueue, Inbound from) =>
        Reply(from.Peer, from.Rid, !NameRules.IsValid(setQueue.Name) || setQueue.ThrottleLimit < 0
            ? new ErrorReply(GoqErrorIds.InvalidQueue,
                $"a queue name is 1 to {NameRules.MaxLength} letters, digits, '-', '_' or '.', and a throttle limit is 0 (no cap) or more", GoqErrorKind.InvalidArgument)
            : new QueuesReply([_scheduler.SetQueueLimit(setQueue.Name, setQueue.ThrottleLimit, from.Now)]));

    private void Shutdown(Inbound from)
    {
        _options.Log(LogEntry.Info("server.shutdown_requested", "shutdown requested"));
        Reply(from.Peer, from.Rid, new Ack());
        _stopRequested = true;
        _stopReason = "asked to stop (Stop-GoqServer)";
    }

    private void WorkerHello(WorkerHello hello, Inbound from)
    {
        if (WorkerHelloValidator.Validate(hello) is { } invalid)
        {
            _droppedMalformed++;
            _options.Log(LogEntry.Warning("worker.hello_invalid", $"dropped a worker announcement: {invalid}"));
            Reply(from.Peer, from.Rid, new ErrorReply(GoqErrorIds.WorkerStartFailed, $"the server refused this worker's announcement: {invalid}", GoqErrorKind.InvalidArgument));
            return;
        }

        if (_hostKey is not null && hello.HostKey == _hostKey)
        {
            _sameHostWorkers.Add(hello.WorkerId);
        }
        else
        {
            _sameHostWorkers.Remove(hello.WorkerId);
        }

        var outcome = _scheduler.WorkerHello(from.Peer, hello, from.Now);
        foreach (var stop in _queries.CancelledForeign(outcome.Foreign))
        {
            Reply(from.Peer, 0, stop); // cancelled while we could not reach its worker: stopped now
        }

        if (outcome.IsNew)
        {
            _options.Log(LogEntry.Info("worker.connected", $"worker {hello.WorkerId} on {hello.Host} (pid {hello.Pid}, {hello.Slots} slots) connected", worker: hello.WorkerId));
        }

        if (outcome.IsNew || outcome.FromEarlierRun)
        {
            Reply(from.Peer, from.Rid, new WorkerHelloReply(_options.HeartbeatMs, _scheduler.Epoch));
        }
    }

    private void WorkerBye(WorkerBye bye, Inbound from)
    {
        _options.Log(LogEntry.Info("worker.left", $"worker {bye.WorkerId} left", worker: bye.WorkerId));
        _scheduler.WorkerGone(bye.WorkerId, dead: false, from.Now);
    }

    private void JobReturned(JobReturned returned, Inbound from)
    {
        if (!_scheduler.JobReturned(returned, from.Now))
        {
            _staleReports++;
            _options.Log(LogEntry.Warning("job.stale_return", $"ignored a stale return of job {returned.JobId} attempt {returned.Attempt} from worker {returned.WorkerId}", job: returned.JobId, worker: returned.WorkerId));
        }
    }

    private void JobFinished(JobFinished finished, Inbound from)
    {
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
            return;
        }

        if (_scheduler.JobFinished(finished, from.Now) is { } job)
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
        AddAck(from.Peer, new RunningJobRef(finished.JobId, finished.Attempt));
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
                _store.Update(job.Clone()); // a copy: the store never holds the scheduler's live record
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
                    _store.Update(job.Clone()); // the output path is part of the job's record (a copy: never the live one)
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
