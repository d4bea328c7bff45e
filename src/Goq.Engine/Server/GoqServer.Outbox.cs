using Goq.Timing;
using Goq.Protocol;
using Goq.Transport;
using NetMQ;
using Goq.Diagnostics;
using Goq.Server.Scheduling;

namespace Goq.Server;

/// <summary>
/// What the server sends, and when: replies and scheduler effects go out after the turn's commit; a finished job's
/// ack rides on the dispatch that refills its slot; job-end notices are coalesced per watch (see NoticeBatcher).
/// </summary>
public sealed partial class GoqServer
{
    private void Reply(PeerId peer, long rid, GoqMessage message) => _outbox.Add((peer, rid, message));

    private void AddAck(PeerId peer, RunningJobRef ack)
    {
        if (!_acks.TryGetValue(peer, out var list))
        {
            _acks[peer] = list = [];
        }

        list.Add(ack);
    }

    private void Flush()
    {
        if (LeaseLost())
        {
            return; // stepped down (or its lease ran out during this turn): what this server decided is neither stored nor told
        }

        // Sending may reveal a lost peer (its watches go, its worker is detached) and stage changes: loop until quiet.
        for (var round = 0; round < 8; round++)
        {
            if (_outage.IsDown)
            {
                HoldBack();
                if (_outbox.Count == 0)
                {
                    break;
                }
            }

            // What an outage held goes out now (its commit has just succeeded), but a dispatch only if the job is still
            // that worker's: the scheduler may have taken it back and handed it elsewhere meanwhile.
            var effects = _heldBack.Where(e => e.Message is not DispatchJob held || _scheduler.IsDispatchCurrent(held, e.To))
                .Concat(_effects.Take()).ToList();
            _heldBack.Clear();
            foreach (var effect in effects)
            {
                var message = effect.Message;
                if (message is DispatchJob handed && _scheduler.GetJob(handed.JobId) is { } job)
                {
                    // Planned with the turn's commit already, unless handed out in this round (a lost peer's jobs):
                    // then staged now and committed at the end of the round, still before any of its lines can come.
                    _output.Plan(job);
                    if (job.WorkerId is { } worker && _sameHostWorkers.Contains(worker) && _output.Target(job, handed.Attempt) is { } target)
                    {
                        message = handed with { Output = target }; // the worker sees the file: it writes it itself
                    }
                }

                if (message is DispatchJob dispatch && _acks.Remove(effect.To, out var acks))
                {
                    _outbox.Add((effect.To, effect.Rid, dispatch with { Acks = acks }));
                    continue;
                }

                if (effect.Message is JobFinishedNotice notice)
                {
                    if (_notices.Add(effect.To, effect.Rid, notice.Jobs, Environment.TickCount64) is { } now)
                    {
                        _outbox.Add((effect.To, effect.Rid, now));
                    }

                    continue;
                }

                _outbox.Add((effect.To, effect.Rid, message));
            }

            foreach (var (peer, acks) in _acks)
            {
                _outbox.AddRange(acks.Select(a => (peer, 0L, (GoqMessage)new JobFinishedAck(a.JobId, a.Attempt))));
            }

            _acks.Clear();
            if (_outbox.Count == 0)
            {
                break;
            }

            var batch = _outbox.ToArray();
            _outbox.Clear();
            if (FaultInjection.Enabled)
            {
                foreach (var dispatch in batch.Select(m => m.Message).OfType<DispatchJob>())
                {
                    FaultInjection.At(FaultInjection.ServerExitAfterDispatchCommit, dispatch.JobId); // committed, not sent
                }
            }

            foreach (var (to, rid, body) in batch)
            {
                Send(to, rid, body);
            }

            TryCommit();
        }

        ArmNoticeTimer();
    }

    /// <summary>
    /// The store is down: whatever reports or depends on a change not yet stored waits in the outage (see
    /// <see cref="StoreOutage"/>); only answers that promise nothing stored stay in the outbox to go now.
    /// </summary>
    private void HoldBack()
    {
        var staged = _store.HasChanges;
        foreach (var effect in _effects.Take())
        {
            if (StoreOutage.PromisesNothing(effect.Message, staged))
            {
                _outbox.Add((effect.To, effect.Rid, effect.Message)); // telling workers to stop needs no commit
            }
            else
            {
                _outage.Hold(effect);
            }
        }

        foreach (var (peer, acks) in _acks)
        {
            acks.ForEach(a => _outage.Hold(new SchedulerEffect(peer, 0, new JobFinishedAck(a.JobId, a.Attempt))));
        }

        _acks.Clear();
        var now = _outbox.Where(m => StoreOutage.PromisesNothing(m.Message, staged)).ToList();
        foreach (var (to, rid, message) in _outbox.Where(m => !StoreOutage.PromisesNothing(m.Message, staged)))
        {
            _outage.Hold(new SchedulerEffect(to, rid, message));
        }

        _outbox.Clear();
        _outbox.AddRange(now);
    }

    // Setting Enable to true restarts the interval, so only a change is applied: otherwise a busy loop would keep
    // postponing held notices.
    private void ArmNoticeTimer()
    {
        if (_noticeTimer.Enable != _notices.Active)
        {
            _noticeTimer.Enable = _notices.Active;
        }
    }

    private void SendDueNotices()
    {
        if (LeaseLost())
        {
            return;
        }

        foreach (var (peer, rid, notice) in _notices.TakeDue(Environment.TickCount64))
        {
            Send(peer, rid, notice);
        }

        ArmNoticeTimer();
    }

    private void Send(PeerId to, long rid, GoqMessage body)
    {
        // Checkpoint (sizes): no message leaves larger than a peer accepts; a list too large travels in parts.
        var identity = to.ToIdentity();
        var key = _access.KeyFor(to); // a user holds only their own key: what goes to them is signed with it
        foreach (var payload in MessageParts.Encode(_wire, body, rid, standalone: body is JobFinishedNotice))
        {
            try
            {
                if (!_router.TrySendMultipartMessage(_wire.ToPeer(identity, payload, key)))
                {
                    _options.Log(LogEntry.Warning("message.dropped_queue_full", $"dropped a {body.GetType().Name}: the peer's queue is full"));
                    return;
                }
            }
            catch (HostUnreachableException)
            {
                _scheduler.PeerLost(to, Instant.Now);
                return;
            }
        }
    }

    /// <summary>
    /// A clean stop tells every connected worker, so each says in its log why the server went quiet (its jobs run on and
    /// it rejoins when the server is back). The socket lingers a moment so the notices leave before it closes.
    /// </summary>
    private void TellWorkersStopping()
    {
        try
        {
            foreach (var peer in _scheduler.WorkerPeers)
            {
                Reply(peer, 0, new ServerStopping(_stopReason));
            }

            Flush();
            _router.Options.Linger = TimeSpan.FromSeconds(1);
        }
        catch (Exception ex) when (ex is NetMQException or ObjectDisposedException or InvalidOperationException)
        {
            _options.Log(LogEntry.Warning("server.stop_notice_failed", $"could not tell the workers the server is stopping: {ex.Message}"));
        }
    }
}
