using Goq.Protocol;

using Goq.Timing;

namespace Goq.Server.Queries;

/// <summary>Array jobs in the server's answers: an array's id stands for its tasks, whether the array has ended or not.</summary>
internal sealed partial class JobQueries
{
    /// <summary>An array job's own record: the scheduler's while it runs, else the stored one; null for any other id.</summary>
    private JobInfo? ArrayRecord(long id) => scheduler.GetArray(id) ?? store.GetArray(id)?.Array;

    /// <summary>
    /// The ids with every array job's id replaced by its tasks' ids (those with <paramref name="indexes"/>, when given),
    /// and the arrays found.
    /// </summary>
    private (List<long> Ids, List<ArrayTasks> Arrays) Expand(IReadOnlyList<long> ids, IReadOnlyList<int>? indexes = null)
    {
        var expanded = new List<long>(ids.Count);
        var arrays = new List<ArrayTasks>();
        foreach (var id in ids.Distinct())
        {
            if (ArrayRecord(id) is not { TaskCount: { } count })
            {
                expanded.Add(id);
                continue;
            }

            arrays.Add(new ArrayTasks(id, id + 1, count));
            if (indexes is null)
            {
                for (var p = 0; p < count; p++)
                {
                    expanded.Add(id + 1 + p);
                }

                continue;
            }

            // A task's position is its index's place among the array's indices (ascending).
            var all = scheduler.ArrayIndices(id) ?? [.. store.GetArray(id)!.Value.Spec.ArrayIndex!.Order()];
            foreach (var index in indexes.Distinct())
            {
                if (Array.BinarySearch(all, index) is var p and >= 0)
                {
                    expanded.Add(id + 1 + p);
                }
            }
        }

        return (expanded, arrays);
    }

    /// <summary>
    /// For Restart-GoqJob on arrays: their tasks' ids. An array that has ended runs again (its tasks are restarted by the
    /// caller), so it is held by the scheduler once more, with the tasks it had.
    /// </summary>
    private HashSet<long> ArrayTaskIds(List<ArrayTasks> arrays, Instant now)
    {
        var ids = new HashSet<long>();
        foreach (var array in arrays)
        {
            var last = array.FirstTaskId + array.Count - 1;
            if (scheduler.GetArray(array.ArrayJobId) is null && store.GetArray(array.ArrayJobId) is var (record, spec))
            {
                var tasks = store.Query(null, null, array.ArrayJobId, array.Count).Where(j => j.Id <= last).Select(j => (j.Id, j.State)).ToList();
                scheduler.Revive(record.Clone(), spec, tasks, now); // the scheduler's own record from now: never the store's
            }

            for (var id = array.FirstTaskId; id <= last; id++)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>A batch's jobs as they are now: each array job once (its tasks' ids follow it), then the next job.</summary>
    private List<JobInfo> BatchJobs(long firstId, int count)
    {
        var jobs = new List<JobInfo>();
        for (var id = firstId; id < firstId + count;)
        {
            var job = Job(id);
            if (job is not null)
            {
                jobs.Add(job);
            }

            id += 1 + (job?.TaskCount ?? 0);
        }

        return jobs;
    }

    /// <summary>Forgets the records of ended arrays whose tasks have all been removed.</summary>
    private void ForgetRemovedArrays(IEnumerable<ArrayTasks> arrays)
    {
        foreach (var array in arrays)
        {
            if (scheduler.GetArray(array.ArrayJobId) is not null)
            {
                continue; // it runs: its record stays
            }

            var next = store.Query(null, null, array.ArrayJobId, 1); // the first job after the array's own id
            if (next.Count == 0 || next[0].Id >= array.FirstTaskId + array.Count)
            {
                store.RemoveArray(array.ArrayJobId);
            }
        }
    }
}
