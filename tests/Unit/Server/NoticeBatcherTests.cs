using Goq.Server;
using Goq.Transport;

namespace Goq.Tests.Server;

public sealed class NoticeBatcherTests
{
    private static readonly PeerId Client = new("c");
    private readonly NoticeBatcher _batcher = new(TimeSpan.FromMilliseconds(25));

    private static JobInfo Job(long id) => new() { Id = id, State = JobState.Completed };

    [Fact]
    public void FirstEnd_GoesOutAtOnce_LaterOnesTogether_AfterTheInterval()
    {
        Assert.Equal([1L], _batcher.Add(Client, 7, [Job(1)], nowMs: 1000)!.Jobs.Select(j => j.Id));
        Assert.Null(_batcher.Add(Client, 7, [Job(2)], nowMs: 1005));
        Assert.Null(_batcher.Add(Client, 7, [Job(3)], nowMs: 1010));
        Assert.Empty(_batcher.TakeDue(nowMs: 1020));

        var due = Assert.Single(_batcher.TakeDue(nowMs: 1025));
        Assert.Equal((Client, 7L), (due.Peer, due.Rid));
        Assert.Equal([2L, 3L], due.Notice.Jobs.Select(j => j.Id));
        Assert.True(_batcher.Active);

        // A quiet interval later the watch is forgotten, and the next end goes out at once again.
        Assert.Empty(_batcher.TakeDue(nowMs: 1050));
        Assert.False(_batcher.Active);
        Assert.NotNull(_batcher.Add(Client, 7, [Job(4)], nowMs: 1060));
    }

    [Fact]
    public void Watches_AreBatchedApart()
    {
        Assert.NotNull(_batcher.Add(Client, 1, [Job(1)], nowMs: 0));
        Assert.NotNull(_batcher.Add(Client, 2, [Job(2)], nowMs: 0));
        Assert.NotNull(_batcher.Add(new PeerId("d"), 1, [Job(3)], nowMs: 0));
        Assert.Null(_batcher.Add(Client, 1, [Job(4)], nowMs: 1));
        Assert.Equal([4L], Assert.Single(_batcher.TakeDue(nowMs: 30)).Notice.Jobs.Select(j => j.Id));
    }
}
