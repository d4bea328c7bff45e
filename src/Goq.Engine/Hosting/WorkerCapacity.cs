namespace Goq.Hosting;

/// <summary>
/// How much work a worker takes: <paramref name="Slots"/> jobs at once, and <paramref name="Prefetch"/> more handed to it
/// ahead of a free slot (null: as many as it has slots), from the <paramref name="Queues"/> it serves (null: the default
/// queue), offering its <paramref name="Labels"/>, and in a multi-user cluster running jobs as root or system accounts
/// only for <paramref name="AllowUsers"/>. Passed on to the process that runs the worker's jobs.
/// </summary>
public sealed record WorkerCapacity(int Slots, int? Prefetch = null, IReadOnlyList<string>? Queues = null, IReadOnlyList<string>? Labels = null,
    IReadOnlyList<string>? AllowUsers = null);
