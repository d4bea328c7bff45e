using System.Collections.Frozen;
using Goq.Errors;
using Goq.Protocol;

using Goq.Timing;
using Goq.Diagnostics;
using Goq.Transport;
using Goq.Identity;
using Goq.Server.Access;
using Goq.Platform;

namespace Goq.Server;

/// <summary>
/// What the server does with each kind of message (on its loop thread, between drain and commit): one handler per kind
/// a client may send (<see cref="ClientRequest"/>) or a worker may send (<see cref="WorkerReport"/>), registered in
/// <see cref="Handlers"/>. A test holds every such kind to having its handler, so a new kind cannot be dropped unseen.
/// </summary>
public sealed partial class GoqServer
{
    /// <summary>Who sent a message (its connection, and the user or the cluster as its key says), the request id to answer, and the turn's time.</summary>
    internal readonly record struct Inbound(PeerId Peer, long Rid, Instant Now, Principal Who);

    internal delegate void Handler(GoqServer server, GoqMessage message, Inbound from);

    /// <summary>The handler of each message kind the server receives.</summary>
    internal static readonly FrozenDictionary<Type, Handler> Handlers = new Dictionary<Type, Handler>
    {
        // What clients ask.
        [typeof(SubmitJobs)] = On<SubmitJobs>((s, m, from) => s.Submit(m, from)),
        [typeof(GetJobs)] = On<GetJobs>((s, m, from) => s.GetJobs(m, from)),
        [typeof(GetServerStatus)] = On<GetServerStatus>((s, m, from) => s.Reply(from.Peer, from.Rid, new ServerStatusReply(s.Status(m.CountStates, m.Detailed, m.All)))),
        [typeof(GetWorkers)] = On<GetWorkers>((s, _, from) => s.Reply(from.Peer, from.Rid, new WorkersReply(s._scheduler.GetWorkers()))),
        [typeof(WatchJobs)] = On<WatchJobs>((s, m, from) => s.Reply(from.Peer, from.Rid, s.Watch(m, from))),
        [typeof(UnwatchJobs)] = On<UnwatchJobs>((s, m, from) => s._scheduler.Unwatch(from.Peer, m.WatchRid)),
        [typeof(ReadOutput)] = On<ReadOutput>((s, m, from) => s.Reply(from.Peer, from.Rid, (GoqMessage?)s.MayRead(from, m.JobId) ?? s.ReadOutput(m))),
        [typeof(GetOutputMap)] = On<GetOutputMap>((s, m, from) => s.Reply(from.Peer, from.Rid, (GoqMessage?)s.MayRead(from, m.JobId) ?? s.OutputMap(m.JobId, m.Records))),
        [typeof(ReadOutputBytes)] = On<ReadOutputBytes>((s, m, from) => s.Reply(from.Peer, from.Rid, (GoqMessage?)s.MayRead(from, m.JobId) ?? s.ReadBytes(m))),
        [typeof(CancelJobs)] = On<CancelJobs>((s, m, from) => s.Cancel(m, from)),
        [typeof(SetJobs)] = On<SetJobs>((s, m, from) => s.SetJobs(m, from)),
        [typeof(RestartJobs)] = On<RestartJobs>((s, m, from) => s.RestartJobs(m, from)),
        [typeof(GetQueues)] = On<GetQueues>((s, _, from) => s.Reply(from.Peer, from.Rid, new QueuesReply(s._scheduler.GetQueues()))),
        [typeof(SetQueue)] = On<SetQueue>((s, m, from) => s.Reply(from.Peer, from.Rid, (GoqMessage?)s._access.Check(from.Who, GoqAction.SetQueue) ?? s.SetQueue(m, from))),
        [typeof(RemoveJobs)] = On<RemoveJobs>((s, m, from) => s.Remove(m, from)),
        [typeof(DismissJobs)] = On<DismissJobs>((s, m, from) => s.Dismiss(m, from)),
        [typeof(StopWorkers)] = On<StopWorkers>((s, m, from) => s.Reply(from.Peer, from.Rid,
            (GoqMessage?)s._access.Check(from.Who, GoqAction.StopWorkers) ?? s._scheduler.StopWorkers(m.Idle, m.Ids, m.Drain, from.Now))),
        [typeof(ShutdownServer)] = On<ShutdownServer>((s, _, from) => s.Shutdown(from)),
        [typeof(GrantUser)] = On<GrantUser>((s, m, from) => s.Reply(from.Peer, from.Rid, s.Users(from, GoqAction.ManageUsers, u =>
        {
            var (user, key) = u.Grant(m.User, m.Role, m.NewKey, from.Now.Wall);
            s._options.Log(LogEntry.Info("user.granted", $"{user.Name} was granted the role {user.Role}{(key is null ? "" : $" and key {user.KeyId}")}") with { User = user.Name, Action = "grant" });
            return new UserGrantedReply(user, key?.ToFileText());
        }))),
        [typeof(GetUsers)] = On<GetUsers>((s, _, from) => s.Reply(from.Peer, from.Rid, s.Users(from, null, u => new UsersReply(u.List())))),
        [typeof(SetUser)] = On<SetUser>((s, m, from) => s.Reply(from.Peer, from.Rid, s.Users(from, GoqAction.ManageUsers, u =>
        {
            var user = u.SetRole(m.User, m.Role);
            s._options.Log(LogEntry.Info("user.role_set", $"{user.Name} now has the role {user.Role}") with { User = user.Name, Action = "set-role" });
            return new UsersReply([user]);
        }))),
        [typeof(RevokeUser)] = On<RevokeUser>((s, m, from) => s.Reply(from.Peer, from.Rid, s.Users(from, GoqAction.ManageUsers, u =>
        {
            var user = u.Revoke(m.User, from.Now.Wall);
            s._options.Log(LogEntry.Warning("user.revoked", $"the key {user.KeyId} of {user.Name} was revoked") with { User = user.Name, Action = "revoke" });
            return new UsersReply([user]);
        }))),

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

    private void Apply(PeerId peer, Envelope envelope, Principal who)
    {
        var from = new Inbound(peer, envelope.Rid, Instant.Now, who);
        if (!who.IsCluster && envelope.Body is WorkerReport or Protocol.WorkerHello or Protocol.WorkerBye
            && _workerClaims.Refusal(who, envelope.Body, _queries.OwnerOf) is { } refused)
        {
            _options.Log(LogEntry.Warning("security.denied", refused) with { User = who.Name, Action = "worker" });
            return;
        }

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
        var error = JobSpecValidator.ValidateBatchId(batchId) ?? JobSpecValidator.Validate(submit.Jobs, submit.SharedEnvironment, checkSizes: _frameBytes > FrameCodec.MaxJobBytes);
        // Checkpoint (ownership): a job's owner is who signed the submit, never what the client says; the cluster
        // secret's holder (root on the server's host, an admin's script) names the account it submits as.
        var specs = error is not null
            ? submit.Jobs
            : submit.Jobs.Select(j => j with
            {
                CapturedEnvironment = submit.SharedEnvironment ?? j.CapturedEnvironment,
                Owner = from.Who.Name ?? OwnerNamed(j.SubmittedBy),
                SubmittedBy = from.Who.Name ?? j.SubmittedBy,
                RunAsOwner = _access.Users is not null,
            }).ToList();
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
        if (_access.OnlyOwner(from.Who) is { } owner)
        {
            get = get with { Filter = (get.Filter ?? new JobFilter()) with { Owner = owner } }; // PrivateJobs: a user lists their own
        }

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

    private void Cancel(CancelJobs cancel, Inbound from)
    {
        var (ids, denied) = _access.Partition(from.Who, GoqAction.StopJob, cancel.Ids ?? [], _queries.OwnerOf);
        Reply(from.Peer, from.Rid, _queries.Cancel(ids, from.Now) with { Denied = denied });
    }

    /// <summary>A watch on jobs; where jobs are private, another user's job is unknown to a user (as it is to Get-GoqJob).</summary>
    private WatchReply Watch(WatchJobs watch, Inbound from)
    {
        if (_access.OnlyOwner(from.Who) is not { } owner)
        {
            return _queries.Watch(from.Peer, from.Rid, watch.Ids);
        }

        var hidden = watch.Ids.Where(id => _queries.OwnerOf(id) is { } of && of != owner).ToHashSet();
        var reply = _queries.Watch(from.Peer, from.Rid, [.. watch.Ids.Where(id => !hidden.Contains(id))]);
        return reply with { Unknown = [.. reply.Unknown, .. hidden] };
    }

    private void SetJobs(SetJobs set, Inbound from)
    {
        var (ids, denied) = set.Ids is null ? (set.Ids, null) : _access.Partition(from.Who, GoqAction.SetJob, set.Ids, _queries.OwnerOf);
        Reply(from.Peer, from.Rid, (_queries.Change(set with { Ids = ids! }, from.Now) is { } changed ? changed with { Denied = denied } : null) as GoqMessage
            ?? new ErrorReply(GoqErrorIds.InvalidJobSpec, "a change needs job ids and what to change", GoqErrorKind.InvalidArgument));
    }

    private void RestartJobs(RestartJobs restart, Inbound from)
    {
        if (restart.Ids is null)
        {
            Reply(from.Peer, from.Rid, new ErrorReply(GoqErrorIds.InvalidJobSpec, "a restart needs job ids", GoqErrorKind.InvalidArgument));
            return;
        }

        var (ids, denied) = _access.Partition(from.Who, GoqAction.RestartJob, restart.Ids, _queries.OwnerOf);
        Reply(from.Peer, from.Rid, _queries.Restart(ids, restart.IncludeDependents, from.Now, OnlyOwn(from.Who, GoqAction.RestartJob)) with { Denied = denied });
    }

    private void Remove(RemoveJobs remove, Inbound from)
    {
        // By state, a user removes only their own ended jobs (as Slurm's scancel -u); by id, each is checked.
        var (ids, denied) = remove.Ids is null ? (null, null) : _access.Partition(from.Who, GoqAction.RemoveJob, remove.Ids, _queries.OwnerOf);
        var onlyOwner = remove.Ids is null ? OnlyOwn(from.Who, GoqAction.RemoveJob) : null;
        Reply(from.Peer, from.Rid, _queries.Remove(ids, remove.States, from.Now, onlyOwner) with { Denied = denied });
    }

    private void Dismiss(DismissJobs dismiss, Inbound from)
    {
        var (ids, denied) = _access.Partition(from.Who, GoqAction.RemoveJob, dismiss.Ids ?? [], _queries.OwnerOf);
        Reply(from.Peer, from.Rid, _queries.Dismiss(ids) with { Denied = denied });
    }

    /// <summary>Null when the sender may read the job's output through the server (theirs, or they are an Operator); else the refusal.</summary>
    private ErrorReply? MayRead(Inbound from, long jobId) =>
        from.Who.IsCluster ? null : _access.Check(from.Who, GoqAction.ReadOutput, jobId, _queries.OwnerOf(jobId));

    /// <summary>A request about the users: refused on a home that is not multi-user, and to a sender without the rights.</summary>
    private GoqMessage Users(Inbound from, GoqAction? action, Func<UserDirectory, GoqMessage> handle)
    {
        if (_access.Users is not { } users)
        {
            return new ErrorReply(GoqErrorIds.NotMultiUser,
                "this server's home is not a multi-user cluster: it has no users, only its cluster secret (Initialize-GoqHome -MultiUser makes one)", GoqErrorKind.InvalidOperation);
        }

        if (action is { } asked && _access.Check(from.Who, asked) is { } refusal)
        {
            return refusal;
        }

        try
        {
            return handle(users);
        }
        catch (GoqException ex)
        {
            return new ErrorReply(ex.ErrorId, ex.Message, ex.Kind);
        }
    }

    /// <summary>The owner whose jobs alone <paramref name="who"/> may do <paramref name="action"/> to; null: anyone's.</summary>
    private static string? OnlyOwn(Principal who, GoqAction action) => who.Role >= AccessPolicy.LeastRoleFor(action) ? null : who.Name ?? "";

    /// <summary>The account a client of the cluster secret names as its own (user of user@host).</summary>
    private static string OwnerNamed(string submittedBy) => submittedBy.Split('@')[0];

    private GoqMessage SetQueue(SetQueue setQueue, Inbound from) =>
        !NameRules.IsValid(setQueue.Name) || setQueue.ThrottleLimit < 0
            ? new ErrorReply(GoqErrorIds.InvalidQueue,
                $"a queue name is 1 to {NameRules.MaxLength} letters, digits, '-', '_' or '.', and a throttle limit is 0 (no cap) or more", GoqErrorKind.InvalidArgument)
            : new QueuesReply([_scheduler.SetQueueLimit(setQueue.Name, setQueue.ThrottleLimit, from.Now)]);

    private void Shutdown(Inbound from)
    {
        if (_access.Check(from.Who, GoqAction.StopServer) is { } refusal)
        {
            Reply(from.Peer, from.Rid, refusal);
            return;
        }

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

        if (from.Who.IsCluster)
        {
            _workerClaims.ClaimForCluster(hello.WorkerId);
        }
        else
        {
            // A user's worker lists only that user's jobs as its own: another's, named, is neither taken back nor stopped.
            hello = hello with { Running = [.. hello.Running.Where(r => _queries.OwnerOf(r.JobId) == from.Who.Name)] };
        }

        var outcome = _scheduler.WorkerHello(from.Peer, hello, from.Now, from.Who.Name);
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

    /// <summary>
    /// Runs a read of a job's output files with its owner's rights (a multi-user cluster's server run as root): the
    /// files are in folders the owner controls, and a link put there must give them nothing they could not read.
    /// </summary>
    private T AsOwnerOf<T>(JobInfo job, Func<T> read) => FileCredentials.As(_output.ReaderFor(job), read);

    /// <summary>A job's output file the server cannot read (with the owner's rights, where it takes them): said, per job.</summary>
    private static ErrorReply Unreadable(JobInfo job, Exception ex) =>
        new(GoqErrorIds.JobOutputUnreadable, $"cannot read the output of job {job.Id}: {ex.Message}", GoqErrorKind.NotReadable);

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
        Output.OutputPage page;
        long? lineCount;
        try
        {
            (page, lineCount) = AsOwnerOf(job, () => (_output.Read(job, read.FromLine, read.FromOffset, max, OutputPageBytes, records), _output.LineCount(job, records)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unreadable(job, ex);
        }

        var complete = terminal && (lineCount is { } count ? page.NextLine >= count : page.Lines.Count == 0);
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
            data = AsOwnerOf(job, () =>
            {
                using var file = NoFollow.OpenRead(path);
                file.Position = start + offset;
                return data[..file.ReadAtLeast(data, data.Length, throwOnEndOfStream: false)];
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unreadable(job, ex);
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
        return AsOwnerOf(job, () => _output.Map(job, records)) is { } map
            ? new OutputMapReply(job.Id, map.Path, map.Index.StartOffset, map.Index.Bytes, map.Index.Lines, map.Index.StderrRuns, map.Head, map.Tail, terminal, job.State,
                records, job.WorkerHost, map.Index.Breaks)
            : new OutputMapReply(job.Id, null, 0, 0, 0, [], "", "", terminal, job.State, records, job.WorkerHost);
    }
}
