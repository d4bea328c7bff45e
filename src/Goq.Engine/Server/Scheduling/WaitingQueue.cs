namespace Goq.Server.Scheduling;

/// <summary>
/// The jobs waiting for a slot, in the order they are handed out: higher priority first, and within a priority first
/// come, first served (by id), except that a job whose worker was lost goes before the others of its priority. Every
/// operation costs O(log n), however long the queue. Owned by the scheduler thread.
/// </summary>
internal sealed class WaitingQueue
{
    private readonly SortedSet<Entry> _order = new(Comparer<Entry>.Create(Compare));
    private readonly Dictionary<long, Entry> _entries = new();
    private long _front;

    public int Count => _entries.Count;

    /// <summary>The job handed out next, or null when none waits.</summary>
    public long? Next => _order.Count > 0 ? _order.Min.Id : null;

    /// <summary>The job handed out next with its place (priority, then sequence), to compare heads of several queues.</summary>
    public (int Priority, long Seq, long Id)? Head => _order.Count > 0 ? (_order.Min.Priority, _order.Min.Seq, _order.Min.Id) : null;

    public bool Contains(long id) => _entries.ContainsKey(id);

    /// <summary>The ids in the order they are handed out.</summary>
    public IEnumerable<long> InOrder() => _order.Select(e => e.Id);

    /// <summary>Queues a job in its place: by priority, then by id.</summary>
    public void Add(long id, int priority) => Put(new Entry(priority, id, id));

    /// <summary>Queues a job ahead of every other of its priority (its worker was lost while it ran).</summary>
    public void AddFront(long id, int priority) => Put(new Entry(priority, long.MinValue / 2 + --_front, id));

    /// <summary>Queues a job at a place the caller chose (several queues that share one order: see <see cref="WaitingPool"/>).</summary>
    public void AddAt(long id, int priority, long seq) => Put(new Entry(priority, seq, id));

    public bool Remove(long id)
    {
        if (!_entries.Remove(id, out var entry))
        {
            return false;
        }

        _order.Remove(entry);
        return true;
    }

    /// <summary>A waiting job's new priority: it moves to that priority, keeping its place by id.</summary>
    public void Reprioritize(long id, int priority)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Priority != priority)
        {
            Remove(id);
            Put(entry with { Priority = priority });
        }
    }

    private void Put(Entry entry)
    {
        Remove(entry.Id);
        _entries[entry.Id] = entry;
        _order.Add(entry);
    }

    private static int Compare(Entry a, Entry b)
    {
        var byPriority = b.Priority.CompareTo(a.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        var bySeq = a.Seq.CompareTo(b.Seq);
        return bySeq != 0 ? bySeq : a.Id.CompareTo(b.Id);
    }

    private readonly record struct Entry(int Priority, long Seq, long Id);
}
