using Goq.Storage;

namespace Goq.Server.Scheduling;

/// <summary>
/// Array jobs (<c>-ArrayIndex</c>): one record for the array, and its tasks made one at a time, in index order, as the
/// one before is handed out (see <see cref="ArrayJob"/>). A task that has not been made yet shows as a row of its own
/// all the same (<see cref="UnmadeJobs"/>), and a user who names it (to cancel, hold or re-prioritize it) makes it.
/// The array ends when its last task does; jobs that depend on the array's id wait for that (the scheduler settles
/// them from <see cref="TakeEnded"/>). Owns the held arrays; a task it makes is admitted, and one it ends without
/// running is ended, by the scheduler (<paramref name="admit"/>, <paramref name="end"/>).
/// </summary>
internal sealed class ArrayJobs(JobTable jobs, IJobStaging store, RunLimits limits, Action<JobInfo, DateTimeOffset> admit,
    Action<JobInfo, JobState, string, DateTimeOffset> end)
{
    private readonly Dictionary<long, ArrayJob> _arrays = new();
    private readonly SortedSet<long> _arrayIds = [];

    // Arrays that ended, for the scheduler to settle what depends on them (iteratively, never from inside a task's end).
    private readonly List<JobInfo> _ended = [];

    /// <summary>The held arrays (not ended).</summary>
    public IEnumerable<ArrayJob> Values => _arrays.Values;

    public bool ContainsKey(long id) => _arrays.ContainsKey(id);

    public bool TryGetValue(long id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ArrayJob? array) => _arrays.TryGetValue(id, out array);

    /// <summary>An array that ended and whose dependents are not settled yet.</summary>
    public bool TakeEnded([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JobInfo? array)
    {
        array = null;
        if (_ended.Count == 0)
        {
            return false;
        }

        array = _ended[^1];
        _ended.RemoveAt(_ended.Count - 1);
        return true;
    }

    /// <summary>The record of an array job this scheduler holds (not ended), or null.</summary>
    public JobInfo? Get(long id) => _arrays.GetValueOrDefault(id)?.Info;

    /// <summary>The indices of a held array's tasks, ascending (a task's position among them gives its id), or null.</summary>
    public int[]? Indices(long id) => _arrays.GetValueOrDefault(id)?.Indices;

    /// <summary>Whether <paramref name="id"/> is a task of a held array that has not been made yet (it exists, waiting its turn).</summary>
    public bool IsUnmadeTask(long id) => ArrayOfTask(id) is { } array && array.IsUnmade(id);

    /// <summary>The owner of the array a task id belongs to (made or not); null when it belongs to none held.</summary>
    public string? OwnerOfTask(long id) => ArrayOfTask(id)?.Info.Owner;

    /// <summary>Submits an array: its record, and its first task (the rest are made as they are needed).</summary>
    public JobInfo Submit(long id, JobSpec spec, DateTimeOffset now)
    {
        var info = UserRequests.NewJob(id, spec, now);
        info.TaskCount = spec.ArrayIndex!.Count;
        var array = new ArrayJob(info, spec with { ArrayIndex = [.. spec.ArrayIndex.Order()] });
        _arrays[id] = array;
        _arrayIds.Add(id);
        limits.SetLimit(RunLimits.ArrayKey(id), spec.ThrottleLimit);
        MakeNext(array, now);
        var frontier = array.Frontier is { } first ? jobs.GetValueOrDefault(first) : null;
        info.Reason = frontier?.Reason;
        jobs.TransitionArray(info, frontier?.State ?? JobState.Waiting, now);
        store.InsertArray(info.Clone(), array.Spec);
        return info;
    }

    /// <summary>After a restart: an array that had not ended, with the tasks made before (id and state).</summary>
    public void Load(JobInfo info, JobSpec spec, IReadOnlyList<(long Id, JobState State)> tasks)
    {
        var array = new ArrayJob(info, spec);
        foreach (var (id, state) in tasks)
        {
            if (array.Position(id) is not { } position)
            {
                continue;
            }

            array.MarkMade(position);
            array.Live++;
            if (state.IsTerminal())
            {
                array.TaskEnded(state);
            }

            array.DependenciesMet |= state is JobState.Running or JobState.Completed or JobState.Failed;
        }

        _arrays[info.Id] = array;
        _arrayIds.Add(info.Id);
        limits.SetLimit(RunLimits.ArrayKey(info.Id), spec.ThrottleLimit);
    }

    /// <summary>After a restart, once its made tasks are placed: the first of them still waiting its turn is the frontier, else the next is made.</summary>
    public void Resume(ArrayJob array, DateTimeOffset now)
    {
        for (var p = 0; p < array.Indices.Length; p++)
        {
            if (array.IsMade(p) && jobs.GetValueOrDefault(array.TaskId(p)) is { State: JobState.Waiting or JobState.Blocked } task && !task.Hold)
            {
                array.Frontier = task.Id;
                return;
            }
        }

        MakeNext(array, now);
        if (array.Ended)
        {
            End(array, now);
        }
    }

    /// <summary>Makes the task at <paramref name="position"/> a job of its own (not yet placed).</summary>
    private JobInfo Make(ArrayJob array, int position)
    {
        var spec = array.TaskSpec(position);
        var job = ArrayJob.Task(array, position, JobState.Waiting);
        array.MarkMade(position);
        array.Live++;
        store.Insert(job.Clone(), spec);
        jobs.Add(job, spec);
        return job;
    }

    /// <summary>Makes and places the array's next task in index order: the one that waits its turn for the rest.</summary>
    private void MakeNext(ArrayJob array, DateTimeOffset now)
    {
        array.Frontier = null;
        if (array.NextPosition() is not { } position)
        {
            return;
        }

        var job = Make(array, position);
        array.Frontier = job.Id;
        admit(job, now);
    }

    /// <summary>Makes a task a user named (to cancel, hold or re-prioritize it) that had not been made yet.</summary>
    public JobInfo? MakeNamed(long taskId, DateTimeOffset now)
    {
        if (ArrayOfTask(taskId) is not { } array || array.Position(taskId) is not { } position || array.IsMade(position))
        {
            return null;
        }

        var job = Make(array, position);
        admit(job, now);
        return jobs.GetValueOrDefault(taskId);
    }

    /// <summary>A task was handed out: the array runs, and its next task takes its place in the queue.</summary>
    public void TaskHandedOut(JobInfo job, DateTimeOffset now)
    {
        if (job.ArrayJobId is not { } id || !_arrays.TryGetValue(id, out var array))
        {
            return;
        }

        array.DependenciesMet = true;
        if (array.Info.State != JobState.Running)
        {
            array.Info.Reason = null;
            array.Info.StartedAt ??= now;
            jobs.TransitionArray(array.Info, JobState.Running, now);
        }

        if (array.Frontier == job.Id)
        {
            MakeNext(array, now);
        }
    }

    /// <summary>A task a user holds: the task after it takes its turn.</summary>
    public void TaskHeld(JobInfo job, DateTimeOffset now)
    {
        if (job.ArrayJobId is { } id && _arrays.TryGetValue(id, out var array) && array.Frontier == job.Id && !array.Info.Hold)
        {
            MakeNext(array, now);
        }
    }

    /// <summary>
    /// A task ended (called as it leaves the scheduler). If the array's dependencies broke before any task ran, every
    /// task not made yet ends the same way at once; when the last task has ended, so does the array.
    /// </summary>
    public void TaskEnded(JobInfo job, DateTimeOffset now)
    {
        if (job.ArrayJobId is not { } id || !_arrays.TryGetValue(id, out var array) || array.Ending)
        {
            return;
        }

        array.TaskEnded(job.State);
        if (job.State == JobState.DependencyFailed && !array.DependenciesMet)
        {
            // Iteratively: tasks made here end at once and must not each make the next (a deep recursion).
            array.Ending = true;
            while (array.NextPosition() is { } position)
            {
                var task = Make(array, position);
                end(task, JobState.DependencyFailed, job.Reason ?? "its array's dependencies can no longer be met", now);
                array.TaskEnded(JobState.DependencyFailed);
            }

            array.Ending = false;
        }
        else if (array.Frontier == job.Id)
        {
            MakeNext(array, now);
        }

        if (array.Ended)
        {
            End(array, now);
        }
    }

    /// <summary>The array's last task ended: the array ends with their outcome, and what depends on it is settled.</summary>
    public void End(ArrayJob array, DateTimeOffset now)
    {
        var info = array.Info;
        _arrays.Remove(info.Id);
        _arrayIds.Remove(info.Id);
        limits.SetLimit(RunLimits.ArrayKey(info.Id), 0);
        info.FinishedAt = now;
        info.Reason = $"{array.Completed} completed, {array.Failed} failed, {array.Cancelled} cancelled, {array.DependencyFailed} not run (DependencyFailed)";
        jobs.TransitionArray(info, array.Outcome, now);
        _ended.Add(info);
    }

    
    /// <summary>Cancels every task of an array not made yet: each is made and ends Cancelled at once.</summary>
    private void Cancel(ArrayJob array, DateTimeOffset now)
    {
        array.Ending = true;
        while (array.NextPosition() is { } position)
        {
            var task = Make(array, position);
            end(task, JobState.Cancelled, "cancelled before it started (its array was cancelled)", now);
            array.TaskEnded(JobState.Cancelled);
        }

        array.Ending = false;
        array.Frontier = null;
    }

    /// <summary>
    /// For Cancel: an array's id stands for its tasks (those not made yet end Cancelled here, into
    /// <paramref name="cancelled"/>; the live ones are returned to be cancelled), and a task not made yet is made.
    /// </summary>
    public (List<long> Ids, Dictionary<long, JobInfo> Arrays) Expand(IReadOnlyList<long> ids, DateTimeOffset now)
    {
        var expanded = new List<long>(ids.Count);
        var arrays = new Dictionary<long, JobInfo>();
        foreach (var id in ids.Distinct())
        {
            if (_arrays.TryGetValue(id, out var array))
            {
                arrays[id] = array.Info;
                Cancel(array, now);
                expanded.AddRange(LiveTasks(array));
                if (array.Ended)
                {
                    End(array, now);
                }
            }
            else
            {
                if (IsUnmadeTask(id))
                {
                    MakeNamed(id, now);
                }

                expanded.Add(id);
            }
        }

        return (expanded, arrays);
    }

    /// <summary>Applies a change to an array itself (its later tasks take it) and to its tasks that have not started.</summary>
    public void Change(ArrayJob array, Action<ArrayJob> onArray, Action<JobInfo> change)
    {
        onArray(array);
        jobs.ChangedArray(array.Info);
        foreach (var id in LiveTasks(array))
        {
            if (jobs[id] is { State: JobState.Waiting or JobState.Blocked or JobState.Held } task)
            {
                change(task);
            }
        }
    }

    /// <summary>The made tasks of an array that this scheduler holds (not ended), by id.</summary>
    public List<long> LiveTasks(ArrayJob array)
    {
        var live = new List<long>(array.Live);
        for (var p = 0; p < array.Indices.Length && live.Count < array.Live; p++)
        {
            if (array.IsMade(p) && jobs.ContainsKey(array.TaskId(p)))
            {
                live.Add(array.TaskId(p));
            }
        }

        return live;
    }

    /// <summary>
    /// The tasks not made yet, as rows (each a fresh record), with ids above <paramref name="afterId"/> (and among
    /// <paramref name="ids"/>, when given), at most <paramref name="limit"/>, ascending.
    /// </summary>
    public IReadOnlyList<JobInfo> UnmadeJobs(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter)
    {
        var rows = new List<JobInfo>();
        var alike = filter is null ? null : filter with { ArrayIndexes = null };
        foreach (var array in _arrays.Values.OrderBy(a => a.Info.Id))
        {
            var state = UnmadeState(array);
            if ((states is not null && !states.Contains(state)) || array.NextPosition() is not { } first)
            {
                continue;
            }

            // Tasks not made yet differ only in their id and index: one of them answers the filter for all.
            if (alike is not null && !alike.Matches(Unmade(array, first, state)))
            {
                continue;
            }

            var candidates = ids is not null ? ids.Where(id => id > afterId && array.IsUnmade(id)).Order()
                : filter?.ArrayIndexes is { } indexes ? indexes.Select(i => Array.BinarySearch(array.Indices, i)).Where(p => p >= 0).Select(array.TaskId)
                    .Where(id => id > afterId && array.IsUnmade(id)).Order()
                : array.UnmadeIds(afterId);
            foreach (var id in candidates)
            {
                var row = Unmade(array, array.Position(id)!.Value, state);
                if (filter?.ArrayIndexes is null || filter.Matches(row))
                {
                    rows.Add(row);
                    if (rows.Count >= limit && ids is null)
                    {
                        break;
                    }
                }
            }
        }

        return rows.OrderBy(j => j.Id).Take(limit).ToList();
    }

    /// <summary>How many tasks not made yet are in <paramref name="state"/>.</summary>
    public int UnmadeIn(JobState state) => _arrays.Values.Where(a => UnmadeState(a) == state).Sum(a => a.Unmade);

    /// <summary>The state a task not made yet shows: its array's hold, else its dependencies, else waiting its turn.</summary>
    public JobState UnmadeState(ArrayJob array) =>
        array.Info.Hold ? JobState.Held
        : !array.DependenciesMet && array.Frontier is { } f && jobs.GetValueOrDefault(f)?.State == JobState.Blocked ? JobState.Blocked
        : JobState.Waiting;

    private JobInfo Unmade(ArrayJob array, int position, JobState state)
    {
        var row = ArrayJob.Task(array, position, state);
        row.Reason = state == JobState.Waiting ? $"waiting for the tasks of array {array.Info.Id} before it, in index order"
            : array.Frontier is { } f ? jobs.GetValueOrDefault(f)?.Reason : null;
        return row;
    }

    private ArrayJob? ArrayOfTask(long taskId)
    {
        // Tasks' ids follow their array's: the array is the held one with the highest id below the task's.
        if (_arrayIds.Count == 0 || taskId <= _arrayIds.Min)
        {
            return null;
        }

        var below = _arrayIds.GetViewBetween(_arrayIds.Min, taskId - 1);
        return below.Count > 0 && _arrays.TryGetValue(below.Max, out var array) && array.Position(taskId) is not null ? array : null;
    }
}
