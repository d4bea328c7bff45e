using System.Collections;

namespace Goq.Server.Scheduling;

/// <summary>
/// An array job in the scheduler: its own record and spec, and which of its tasks exist yet. A task is made (a job of
/// its own, id right after the array's: task at position p has id Id + 1 + p) only when it is about to be needed: the
/// next one in index order when the one before it is handed out (the frontier), or one a user names. Until then it is
/// a bit here, so a 100,000-task array costs its index list and a bitmap, not 100,000 jobs (Slurm keeps pending array
/// tasks in one record the same way). Owned by the scheduler thread.
/// </summary>
internal sealed class ArrayJob
{
    private readonly BitArray _made;
    private int _next;

    public ArrayJob(JobInfo info, JobSpec spec)
    {
        Info = info;
        Spec = spec;
        Indices = [.. spec.ArrayIndex ?? []];
        _made = new BitArray(Indices.Length);
        Throttles = [RunLimits.ArrayKey(info.Id)];
    }

    /// <summary>The array's own record (what Submit-GoqJob -ArrayIndex returns).</summary>
    public JobInfo Info { get; }

    public JobSpec Spec { get; }

    /// <summary>The tasks' indices, ascending: the task at position p has index Indices[p].</summary>
    public int[] Indices { get; }

    public string[] Throttles { get; }

    public int MadeCount { get; private set; }

    /// <summary>Tasks not made yet.</summary>
    public int Unmade => Indices.Length - MadeCount;

    /// <summary>Tasks made and not ended.</summary>
    public int Live { get; set; }

    /// <summary>The made task that waits its turn in index order for the others (null: none waits so).</summary>
    public long? Frontier { get; set; }

    /// <summary>One of its tasks was handed out: the array's dependencies were met, so later tasks have none to wait for.</summary>
    public bool DependenciesMet { get; set; }

    /// <summary>Its remaining tasks are being ended at once (cancelled, or their dependencies broke): no task is made next meanwhile.</summary>
    public bool Ending { get; set; }

    public int Completed { get; set; }

    public int Failed { get; set; }

    public int Cancelled { get; set; }

    public int DependencyFailed { get; set; }

    /// <summary>Every task has been made and has ended.</summary>
    public bool Ended => Unmade == 0 && Live == 0;

    /// <summary>How the array ended: Completed when every task completed, else Failed if one failed, else Cancelled.</summary>
    public JobState Outcome =>
        Completed == Indices.Length ? JobState.Completed
        : Failed > 0 ? JobState.Failed
        : DependencyFailed > 0 && Cancelled == 0 && Completed == 0 ? JobState.DependencyFailed
        : DependencyFailed > 0 ? JobState.Failed
        : JobState.Cancelled;

    public long TaskId(int position) => Info.Id + 1 + position;

    /// <summary>The position of a task id of this array, or null.</summary>
    public int? Position(long taskId) =>
        taskId > Info.Id && taskId <= Info.Id + Indices.Length ? (int)(taskId - Info.Id - 1) : null;

    public bool IsMade(int position) => _made[position];

    /// <summary>Whether <paramref name="taskId"/> is one of its tasks that has not been made yet.</summary>
    public bool IsUnmade(long taskId) => Position(taskId) is { } p && !_made[p];

    /// <summary>The lowest position not made yet, or null.</summary>
    public int? NextPosition()
    {
        while (_next < Indices.Length && _made[_next])
        {
            _next++;
        }

        return _next < Indices.Length ? _next : null;
    }

    public void MarkMade(int position)
    {
        if (!_made[position])
        {
            _made[position] = true;
            MadeCount++;
        }
    }

    /// <summary>The unmade tasks' ids above <paramref name="afterId"/>, ascending.</summary>
    public IEnumerable<long> UnmadeIds(long afterId)
    {
        for (var p = Math.Max(0, (int)Math.Min(int.MaxValue, afterId - Info.Id)); p < Indices.Length; p++)
        {
            if (!_made[p])
            {
                yield return TaskId(p);
            }
        }
    }

    /// <summary>The record of the task at <paramref name="position"/>: the array's, as that task, in <paramref name="state"/>.</summary>
    public static JobInfo Task(ArrayJob array, int position, JobState state)
    {
        var info = array.Info;
        return new JobInfo
        {
            Id = array.TaskId(position),
            Name = info.Name,
            State = state,
            Kind = info.Kind,
            Command = info.Command,
            ArgumentList = info.ArgumentList,
            WorkingDirectory = info.WorkingDirectory,
            SubmittedAt = info.SubmittedAt,
            SubmittedBy = info.SubmittedBy,
            Owner = info.Owner,
            Priority = info.Priority,
            Queue = info.Queue,
            SlotCount = info.SlotCount,
            Require = info.Require,
            DependsOn = array.DependenciesMet ? [] : info.DependsOn,
            DependencyMode = info.DependencyMode,
            Hold = info.Hold,
            NotBefore = info.NotBefore,
            ArrayJobId = info.Id,
            ArrayIndex = array.Indices[position],
        };
    }

    /// <summary>The spec a task runs with: the array's, with which task it is instead of every index.</summary>
    public JobSpec TaskSpec(int position) =>
        Spec with { ArrayIndex = null, ThrottleLimit = 0, ArrayTask = new ArrayTask(Info.Id, Indices[position], Indices.Length) };

    /// <summary>A task that had ended runs again (Restart-GoqJob): it no longer counts as ended.</summary>
    public void Restarted(JobState endedAs)
    {
        Live++;
        switch (endedAs)
        {
            case JobState.Completed: Completed--; break;
            case JobState.Failed: Failed--; break;
            case JobState.Cancelled: Cancelled--; break;
            case JobState.DependencyFailed: DependencyFailed--; break;
        }
    }

    /// <summary>Counts a task's end.</summary>
    public void TaskEnded(JobState state)
    {
        Live--;
        switch (state)
        {
            case JobState.Completed: Completed++; break;
            case JobState.Failed: Failed++; break;
            case JobState.Cancelled: Cancelled++; break;
            case JobState.DependencyFailed: DependencyFailed++; break;
        }
    }
}
