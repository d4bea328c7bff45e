namespace Goq.Server.Scheduling;

/// <summary>
/// The connected workers, and whose turn it is to take the next job: a worker with a free slot first (taking turns,
/// so jobs spread over hosts), else a worker with every slot busy that still takes jobs ahead (see
/// <see cref="WorkerEntry.Prefetch"/>), so its next job is already there when a slot frees. Owned by the scheduler
/// thread; keeping a worker's place costs O(1), whatever the number of workers.
/// </summary>
internal sealed class WorkerPool
{
    private readonly Dictionary<string, WorkerEntry> _workers = new();
    private readonly LinkedList<WorkerEntry> _idle = new();
    private readonly LinkedList<WorkerEntry> _ahead = new();

    public int Count => _workers.Count;

    public IEnumerable<WorkerEntry> All => _workers.Values;

    public int IdleSlots => _idle.Sum(w => w.FreeSlots);

    public bool TryGet(string id, out WorkerEntry worker) => _workers.TryGetValue(id, out worker!);

    public void Add(WorkerEntry worker) => _workers[worker.Id] = worker;

    public bool Remove(string id, out WorkerEntry worker)
    {
        if (!_workers.Remove(id, out worker!))
        {
            return false;
        }

        Unlink(worker);
        return true;
    }

    /// <summary>The workers in line for a job, in turn: those with free slots, or (<paramref name="ahead"/>) those that take jobs ahead.</summary>
    public IEnumerable<WorkerEntry> Line(bool ahead)
    {
        // By node, not by enumerator: the caller hands a job to one and moves it, which ends the walk anyway.
        for (var node = (ahead ? _ahead : _idle).First; node is not null; node = node.Next)
        {
            yield return node.Value;
        }
    }

    /// <summary>A job went to <paramref name="worker"/>: it goes to the back of its line, or leaves it when full.</summary>
    public void Took(WorkerEntry worker)
    {
        Unlink(worker);
        Refresh(worker);
    }

    /// <summary>Puts the worker in the line its free slots (or its room ahead) call for, keeping its place if unchanged.</summary>
    public void Refresh(WorkerEntry worker)
    {
        var line = worker.FreeSlots > 0 ? _idle : worker.FreePrefetch > 0 ? _ahead : null;
        if (worker.Turn?.List == line)
        {
            return;
        }

        Unlink(worker);
        if (line is not null)
        {
            worker.Turn = line.AddLast(worker);
        }
    }

    private static void Unlink(WorkerEntry worker)
    {
        if (worker.Turn is { List: { } list } node)
        {
            list.Remove(node);
        }

        worker.Turn = null;
    }
}
