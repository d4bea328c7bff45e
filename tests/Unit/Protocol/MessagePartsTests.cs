using Goq.Errors;
using Goq.Protocol;
using Goq.Transport;

namespace Goq.Tests.Protocol;

public sealed class MessagePartsTests
{
    private static readonly WireCodec Wire = new(new byte[32], TimeSpan.FromMinutes(3));

    private static JobInfo Job(long id, int commandBytes) => new() { Id = id, Command = new string('c', commandBytes) };

    [Fact]
    public void AListTooLargeForOneMessage_IsSentInParts_ThatEachFit_AndJoinBackInOrder()
    {
        var reply = new JobsReply(Enumerable.Range(1, 9).Select(i => Job(i, 2 * 1024 * 1024)).ToList(), [77], NextAfterId: 9);
        var parts = MessageParts.Encode(Wire, reply, rid: 5);
        Assert.True(parts.Count > 1);
        Assert.All(parts, p => Assert.True(p.Length <= FrameCodec.MaxMessageBytes));

        var envelopes = parts.Select(p => FrameCodec.Decode(p)).ToList();
        Assert.All(envelopes, e => Assert.Equal(5, e.Rid));
        Assert.All(envelopes.SkipLast(1), e => Assert.True(e.More));
        Assert.Null(envelopes[^1].More);
        var joined = (JobsReply)envelopes.Select(e => e.Body).Aggregate(MessageParts.Join);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), joined.Jobs.Select(j => j.Id));
        Assert.Equal([77L], joined.Unknown);
        Assert.Equal(9, joined.NextAfterId);
    }

    [Fact]
    public void OneItemTooLargeForAnyMessage_BecomesAnError_AndNoticesAreEachAMessageOfTheirOwn()
    {
        var single = MessageParts.Encode(Wire, new SubmitJobsReply([Job(1, 9 * 1024 * 1024)]), rid: 3);
        var error = Assert.IsType<ErrorReply>(FrameCodec.Decode(Assert.Single(single)).Body);
        Assert.Equal(GoqErrorIds.MessageTooLarge, error.ErrorId);

        var notices = MessageParts.Encode(Wire, new JobFinishedNotice([Job(1, 3 * 1024 * 1024), Job(2, 3 * 1024 * 1024), Job(3, 3 * 1024 * 1024)]), rid: 4, standalone: true);
        Assert.True(notices.Count > 1);
        Assert.All(notices.Select(p => FrameCodec.Decode(p)), e => Assert.Null(e.More));
        Assert.Equal([1L, 2L, 3L], notices.SelectMany(p => ((JobFinishedNotice)FrameCodec.Decode(p).Body).Jobs).Select(j => j.Id));
    }
}
