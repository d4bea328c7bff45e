using Goq.Server;
using Goq.Server.Scheduling;

namespace Goq.Tests.Server;

public sealed class WaitingQueueTests
{
    private readonly WaitingQueue _queue = new();

    private List<long> Drain()
    {
        var order = new List<long>();
        while (_queue.Next is { } next)
        {
            order.Add(next);
            _queue.Remove(next);
        }

        return order;
    }

    [Fact]
    public void HigherPriorityFirst_ThenFirstComeFirstServed()
    {
        _queue.Add(3, 0);
        _queue.Add(1, 0);
        _queue.Add(5, 10);
        _queue.Add(2, -1);
        _queue.Add(4, 10);
        Assert.Equal([4L, 5L, 1L, 3L, 2L], Drain());
    }

    [Fact]
    public void AJobPutInFront_GoesBeforeTheOthersOfItsPriority_NotBeforeAHigherOne()
    {
        _queue.Add(1, 0);
        _queue.Add(2, 5);
        _queue.AddFront(9, 0);
        _queue.AddFront(8, 0); // the later one in front goes first, as AddFirst did
        Assert.Equal([2L, 8L, 9L, 1L], Drain());
    }

    [Fact]
    public void AJobsPriorityChanges_ItsPlaceWithin_TheNewPriority_ByItsId()
    {
        foreach (var id in new long[] { 1, 2, 3, 4 })
        {
            _queue.Add(id, 0);
        }

        _queue.Reprioritize(3, 1);
        _queue.Reprioritize(42, 7); // not queued: nothing
        Assert.True(_queue.Remove(2));
        Assert.False(_queue.Remove(2));
        Assert.Equal(3, _queue.Count);
        Assert.False(_queue.Contains(42));
        Assert.Equal([3L, 1L, 4L], Drain());
    }
}
