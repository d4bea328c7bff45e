using System.IO.Compression;
using System.Security.Cryptography;
using Goq.Configuration;
using Goq.Errors;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Transport;

namespace Goq.Tests.Transport;

/// <summary>Large envelopes travel deflated, signed as sent; a packed payload is inflated only once signed, and never past a message's size.</summary>
public sealed class PayloadPackingTests
{
    private readonly ClusterCredentials _keys = ClusterCredentials.Generate();

    private WireCodec Codec() => new(_keys.Secret, TimeSpan.FromMinutes(3));

    private static JobsReply Page(int count) => new(
        [.. Enumerable.Range(1, count).Select(i => new JobInfo { Id = i, State = JobState.Completed, Command = $"/bin/echo {i}", WorkingDirectory = "/home/me/work", ExitCode = 0, SubmittedBy = "me@host" })], [], count);

    [Fact]
    public void ALargeReply_TravelsPacked_AndOpensAsSent()
    {
        var page = Page(2000);
        var json = Codec().Encode(page, 9);
        var sent = Codec().ToPeer([1, 2, 3], json);
        var payload = sent[1].ToByteArray();
        Assert.True(PayloadPacking.IsPacked(payload));
        Assert.True(payload.Length < json.Length / 4, $"{payload.Length} of {json.Length} bytes");

        sent.Pop(); // the identity: what the DEALER side receives
        var reply = Assert.IsType<JobsReply>(Codec().Open(sent, 0).Body);
        Assert.Equal(page.Jobs.Select(j => (j.Id, j.Command)), reply.Jobs.Select(j => (j.Id, j.Command)));
    }

    [Fact]
    public void ASmallMessage_OrOneThatDoesNotShrink_TravelsAsItIs()
    {
        var small = Codec().ToServer(new CancelJobs([1, 2, 3]));
        Assert.Equal((byte)'{', small[0].Buffer[0]);

        var noise = RandomNumberGenerator.GetBytes(64 * 1024);
        Assert.Same(noise, PayloadPacking.Pack(noise));
    }

    [Fact]
    public void AFlippedBitInAPackedPayload_IsABadSignature()
    {
        var sent = Codec().ToServer(Codec().Encode(Page(500), 1));
        var payload = sent[0].ToByteArray();
        Assert.True(PayloadPacking.IsPacked(payload));
        payload[payload.Length / 2] ^= 0x04;
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => Codec().Open(RawMessages.Of(payload, sent[1].ToByteArray()), 0)).ErrorId);
    }

    [Fact]
    public void ASignedPackedPayload_ThatIsNotDeflate_OrInflatesPastAMessage_IsMalformed()
    {
        byte[] garbage = [0, 0xff, 0xfe, 0x13, 0x37, 0x00, 0x42];
        var ex = Assert.Throws<GoqException>(() => Codec().Open(Signed(garbage), 0));
        Assert.Equal(GoqErrorIds.MalformedMessage, ex.ErrorId);

        // A peer holding the secret could still send a bomb: 9 MB of spaces deflate to a few kB.
        using var bomb = new MemoryStream();
        bomb.WriteByte(0);
        using (var deflate = new DeflateStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            deflate.Write(Enumerable.Repeat((byte)' ', FrameCodec.MaxMessageBytes + 1024).ToArray());
        }

        Assert.True(bomb.Length < 64 * 1024);
        ex = Assert.Throws<GoqException>(() => Codec().Open(Signed(bomb.ToArray()), 0));
        Assert.Equal(GoqErrorIds.MalformedMessage, ex.ErrorId);
        Assert.Contains("inflates beyond", ex.Message);
    }

    private NetMQ.NetMQMessage Signed(byte[] payload) => RawMessages.Of(payload, HMACSHA256.HashData(_keys.Secret, payload));
}
