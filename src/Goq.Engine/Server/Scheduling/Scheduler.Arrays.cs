using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Scheduling;

/// <summary>What the scheduler answers and does about array jobs; the arrays themselves are <see cref="ArrayJobs"/>'.</summary>
public sealed partial class Scheduler
{
    // How a job this scheduler does not hold ended, as the server says (from the store): for the dependencies of tasks.
    private Func<long, JobState?> _endedState = _ => null;

    /// <summary>The record of an array job this scheduler holds (not ended), or null.</summary>
    public JobInfo? GetArray(long id) => _arrays.Get(id);

    /// <summary>The indices of a held array's tasks, ascending (a task's position among them gives its id), or null.</summary>
    public int[]? ArrayIndices(long id) => _arrays.Indices(id);

    /// <summary>Whether <paramref name="id"/> is a task of a held array that has not been made yet (it exists, waiting its turn).</summary>
    public bool IsUnmadeTask(long id) => _arrays.IsUnmadeTask(id);

    /// <summary>
    /// The tasks not made yet, as rows (each a fresh record), with ids above <paramref name="afterId"/> (and among
    /// <paramref name="ids"/>, when given), at most <paramref name="limit"/>, ascending.
    /// </summary>
    public IReadOnlyList<JobInfo> UnmadeJobs(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter) =>
        _arrays.UnmadeJobs(ids, states, afterId, limit, filter);

    /// <summary>An array that ended is held again, with the tasks it had, because some of them are about to be restarted.</summary>
    public void Revive(JobInfo info, JobSpec spec, IReadOnlyList<(long Id, JobState State)> tasks, Instant instant)
    {
        _now = instant;
        var now = instant.Wall;
        if (_arrays.ContainsKey(info.Id))
        {
            return;
        }

        info.FinishedAt = null;
        info.Reason = null;
        _jobs.TransitionArray(info, JobState.Waiting, now);
        _arrays.Load(info, spec, tasks);
        EndEvent();
    }

    /// <summary>Settles what depends on arrays that ended outside a job's settling (a cancel of a whole array).</summary>
    private void SettleEndedArrays(DateTimeOffset now)
    {
        if (_arrays.TakeEnded(out var array))
        {
            Settle(array, now); // settles every other pending one too
        }
    }
}
