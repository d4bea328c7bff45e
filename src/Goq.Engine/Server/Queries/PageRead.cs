using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Queries;

/// <summary>
/// A page of the job list on its way: planned on the loop thread (<see cref="JobQueries.PlanPage"/>), its stored rows
/// read by <see cref="PageReads"/> on a thread of their own, and finished back on the loop (<see cref="JobQueries.FinishPage"/>).
/// </summary>
internal sealed record PageRead(IReadOnlyList<long>? Window, IReadOnlyList<JobState>? States, long AfterId, int Limit, JobFilter? Filter,
    IReadOnlyList<long> Unknown, bool Truncated, IReadOnlyList<JobInfo> Unmade)
{
    /// <summary>Who asked: the reply goes to this peer with this request id.</summary>
    public PeerId Peer { get; init; }

    public long Rid { get; init; }

    /// <summary>The stored rows, once read.</summary>
    public IReadOnlyList<JobInfo>? Stored { get; set; }

    /// <summary>Why they could not be read, instead.</summary>
    public Exception? Error { get; set; }
}
