using Goq.Protocol;

namespace Goq.Server.Scheduling;

/// <summary>
/// What a worker's hello told the scheduler: whether the worker is new to it, and the jobs the worker listed that the
/// scheduler does not hold (ended meanwhile, or unknown after a restart that lost them); they take its slots until
/// reported done. <paramref name="FromEarlierRun"/>: the hello was sent before the worker heard from this server run
/// (it does not carry <see cref="Scheduler.Epoch"/>), so the server tells the worker its epoch.
/// </summary>
public sealed record WorkerHelloOutcome(bool IsNew, IReadOnlyList<RunningJobRef> Foreign, bool FromEarlierRun = false);
