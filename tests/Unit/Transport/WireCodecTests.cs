using Goq.Configuration;
using Goq.Errors;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;

namespace Goq.Tests.Transport;

public sealed class WireCodecTests
{
    private readonly ClusterCredentials _keys = ClusterCredentials.Generate();

    private WireCodec Codec(byte[]? secret = null) => new(secret ?? _keys.Secret, TimeSpan.FromMinutes(3));

    [Fact]
    public void SignedMessage_OpensOnTheOtherSide()
    {
        var sent = Codec().ToServer(new GetServerStatus(), rid: 5);
        var envelope = Codec().Open(sent, 0);
        Assert.IsType<GetServerStatus>(envelope.Body);
        Assert.Equal(5, envelope.Rid);
    }

    [Fact]
    public void MessageSignedWithAnotherSecret_IsABadSignature()
    {
        var sent = Codec(new byte[32]).ToServer(new GetServerStatus());
        var ex = Assert.Throws<GoqException>(() => Codec().Open(sent, 0));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Security, ex.Kind);
    }

    [Fact]
    public void AnyFlippedBit_InThePayloadOrTheMac_IsABadSignature()
    {
        var sent = Codec().ToServer(new CancelJobs([1, 2, 3]));
        var payload = sent[0].ToByteArray();
        var mac = sent[1].ToByteArray();
        for (var i = 0; i < payload.Length; i += 7)
        {
            var bad = (byte[])payload.Clone();
            bad[i] ^= 0x01;
            Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of(bad, mac), 0)).ErrorId);
        }

        mac[31] ^= 0x80;
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of(payload, mac), 0)).ErrorId);
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of(payload, []), 0)).ErrorId);
    }

    [Fact]
    public void SameMessageTwice_IsAReplay()
    {
        var receiver = Codec();
        var sent = Codec().ToServer(new GetServerStatus());
        receiver.Open(sent, 0);
        var ex = Assert.Throws<GoqException>(() => receiver.Open(sent, 0));
        Assert.Equal(GoqErrorIds.ReplayedMessage, ex.ErrorId);
    }

    [Fact]
    public void WrongFrameCountOrOversizePayload_IsMalformed()
    {
        Assert.Equal(GoqErrorIds.MalformedMessage, Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of([1]), 0)).ErrorId);
        Assert.Equal(GoqErrorIds.MalformedMessage,
            Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of(new byte[FrameCodec.MaxMessageBytes + 1], new byte[32]), 0)).ErrorId);
    }
}
