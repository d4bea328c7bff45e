using System.Collections;

namespace Goq.Server.Scheduling;

/// <summary>
/// The jobs a worker holds (running, or handed to it ahead) and the slots they take: a job of <c>-SlotCount 4</c>
/// takes four. Owned by the scheduler thread.
/// </summary>
internal sealed class WorkerJobs : IEnumerable<long>
{
    private readonly Dictionary<long, int> _slots = new();

    public int Count => _slots.Count;

    /// <summary>Slots taken by the jobs held.</summary>
    public int UsedSlots { get; private set; }

    public bool Contains(long id) => _slots.ContainsKey(id);

    public void Add(long id, int slots)
    {
        if (_slots.TryAdd(id, Math.Max(1, slots)))
        {
            UsedSlots += Math.Max(1, slots);
        }
    }

    public bool Remove(long id)
    {
        if (!_slots.Remove(id, out var slots))
        {
            return false;
        }

        UsedSlots -= slots;
        return true;
    }

    public IEnumerator<long> GetEnumerator() => _slots.Keys.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
