using System.Security.Cryptography;
using Goq.Errors;
using Goq.Identity;
using Goq.Protocol;
using Goq.Server.Access;
using Goq.Storage;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;

namespace Goq.Tests.Identity;

/// <summary>The signature frame of a multi-user cluster: a user's key id and the MAC keyed by their key.</summary>
public sealed class WireCodecUserKeyTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(3);
    private static readonly byte[] PeerIdentity = [0, 0x6b, 0x8b, 0x45, 0x67];

    private readonly byte[] _clusterSecret = RandomNumberGenerator.GetBytes(32);
    private readonly UserDirectory _users;
    private readonly UserKey _alice;
    private readonly UserKey _bob;

    public WireCodecUserKeyTests()
    {
        _users = new UserDirectory(_clusterSecret, new StoreCounters());
        _alice = _users.Grant("alice", GoqRole.User, newKey: false, DateTimeOffset.UnixEpoch).Key!;
        _bob = _users.Grant("bob", GoqRole.Operator, newKey: false, DateTimeOffset.UnixEpoch).Key!;
    }

    private static WireCodec ClientOf(UserKey key) => new(key.Key, Window, keyId: key.KeyId);

    private WireCodec Server(IKeyRing? keys = null) => new(_clusterSecret, Window, keys: keys ?? _users);

    /// <summary>What the server's ROUTER receives: the peer's identity, then what the client sent.</summary>
    private static NetMQMessage Received(NetMQMessage sent) => RawMessages.Of([PeerIdentity, .. sent.Select(f => f.ToByteArray())]);

    /// <summary>What the client's DEALER receives: what the server sent, without the identity.</summary>
    private static NetMQMessage Delivered(NetMQMessage sent) => RawMessages.Of([.. sent.Skip(1).Select(f => f.ToByteArray())]);

    [Fact]
    public void UserSignedMessage_NamesTheKeyId_AndTheServerFindsItsSigner()
    {
        var sent = ClientOf(_alice).ToServer(new GetServerStatus(), rid: 7);
        Assert.Equal(2, sent.FrameCount);
        var signature = sent[1].ToByteArray();
        Assert.Equal(UserKey.KeyIdBytes + 32, signature.Length);
        Assert.Equal(_alice.KeyId, signature[..UserKey.KeyIdBytes]);
        Assert.Equal(HMACSHA256.HashData(_alice.Key, sent[0].ToByteArray()), signature[UserKey.KeyIdBytes..]);

        var envelope = Server().Open(Received(sent), 1, out var jsonBytes, out var signer);

        Assert.IsType<GetServerStatus>(envelope.Body);
        Assert.Equal(7, envelope.Rid);
        Assert.True(jsonBytes > 0);
        Assert.NotNull(signer);
        Assert.Equal(new Principal("alice", GoqRole.User), signer.Value.Principal);
        Assert.False(signer.Value.Principal.IsCluster);
        Assert.Equal(_alice.KeyId, signer.Value.KeyId);
        Assert.Equal(_alice.Key, signer.Value.Key);
        Assert.False(signer.Value.Revoked);
    }

    [Fact]
    public void AnOperatorsMessage_ReportsTheOperatorRole()
    {
        Server().Open(Received(ClientOf(_bob).ToServer(new GetServerStatus())), 1, out _, out var signer);
        Assert.Equal(new Principal("bob", GoqRole.Operator), signer!.Value.Principal);
    }

    [Fact]
    public void TheServersReply_SignedWithTheSendersKey_OpensOnTheClient()
    {
        var client = ClientOf(_alice);
        var server = Server();
        server.Open(Received(client.ToServer(new GetServerStatus(), rid: 3)), 1, out _, out var signer);

        var reply = server.ToPeer(PeerIdentity, server.Encode(new ErrorReply("GoqTest", "hello alice"), rid: 3), signer);

        Assert.Equal(3, reply.FrameCount);
        Assert.Equal(PeerIdentity, reply[0].ToByteArray());
        Assert.Equal(_alice.KeyId, reply[2].ToByteArray()[..UserKey.KeyIdBytes]);
        var envelope = client.Open(Delivered(reply), 0);
        Assert.Equal(3, envelope.Rid);
        Assert.Equal(new ErrorReply("GoqTest", "hello alice"), envelope.Body);
    }

    [Fact]
    public void AMessageNamingAlicesKeyId_ButSignedWithBobsKey_IsABadSignature()
    {
        var forger = new WireCodec(_bob.Key, Window, keyId: _alice.KeyId);
        var ex = Assert.Throws<GoqException>(() => Server().Open(Received(forger.ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Security, ex.Kind);
    }

    [Fact]
    public void AMessageSignedWithTheClusterSecret_ButNamingAUsersKeyId_IsABadSignature()
    {
        var forger = new WireCodec(_clusterSecret, Window, keyId: _alice.KeyId);
        var ex = Assert.Throws<GoqException>(() => Server().Open(Received(forger.ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
    }

    [Fact]
    public void AKeyOfTheSameNameAndId_FromAnotherClustersSecret_IsABadSignature()
    {
        var elsewhere = UserKey.Derive(RandomNumberGenerator.GetBytes(32), "alice", _alice.KeyId);
        var ex = Assert.Throws<GoqException>(() => Server().Open(Received(ClientOf(elsewhere).ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
    }

    [Fact]
    public void AKeyDerivedForAnotherName_UnderAGrantedId_IsABadSignature()
    {
        // Bob cannot derive, but suppose a key claimed alice's id under the name "bob": it derives another key.
        var claimed = UserKey.Derive(_clusterSecret, "bob", _alice.KeyId);
        var ex = Assert.Throws<GoqException>(() => Server().Open(Received(ClientOf(claimed).ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
    }

    [Fact]
    public void AnUnknownKeyId_IsABadSignature()
    {
        var stranger = UserKey.Derive(_clusterSecret, "carol", [9, 9, 9, 9, 9, 9, 9, 9]);
        var ex = Assert.Throws<GoqException>(() => Server().Open(Received(ClientOf(stranger).ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        Assert.Equal(GoqErrorKind.Security, ex.Kind);
    }

    [Fact]
    public void ATamperedPayload_UnderAUserKey_IsABadSignature()
    {
        var sent = ClientOf(_alice).ToServer(new CancelJobs([1, 2, 3]));
        var payload = sent[0].ToByteArray();
        payload[payload.Length / 2] ^= 0x01;
        var ex = Assert.Throws<GoqException>(() => Server().Open(RawMessages.Of(PeerIdentity, payload, sent[1].ToByteArray()), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
    }

    [Fact]
    public void ARevokedUsersMessage_Opens_WithTheSignerMarkedRevoked()
    {
        _users.Revoke("alice", DateTimeOffset.UnixEpoch);
        var server = Server();
        var envelope = server.Open(Received(ClientOf(_alice).ToServer(new GetServerStatus(), rid: 11)), 1, out _, out var signer);

        Assert.IsType<GetServerStatus>(envelope.Body);
        Assert.NotNull(signer);
        Assert.True(signer.Value.Revoked);
        Assert.Equal("alice", signer.Value.Principal.Name);

        // ... so that the refusal reaches them in a reply they can verify.
        var reply = server.ToPeer(PeerIdentity, server.Encode(new ErrorReply(GoqErrorIds.CredentialRevoked, "revoked"), rid: 11), signer);
        Assert.Equal(GoqErrorIds.CredentialRevoked, Assert.IsType<ErrorReply>(ClientOf(_alice).Open(Delivered(reply), 0).Body).ErrorId);
    }

    [Fact]
    public void AUserSignedMessage_ToACodecWithoutAKeyRing_IsABadSignature()
    {
        var plain = new WireCodec(_clusterSecret, Window);
        var ex = Assert.Throws<GoqException>(() => plain.Open(Received(ClientOf(_alice).ToServer(new GetServerStatus())), 1, out _, out _));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
    }

    [Fact]
    public void AClusterSecretMessage_StillOpensOnTheServer_WithNoSigner()
    {
        var worker = new WireCodec(_clusterSecret, Window);
        var sent = worker.ToServer(new GetServerStatus(), rid: 4);
        Assert.Equal(32, sent[1].MessageSize);

        var envelope = Server().Open(Received(sent), 1, out _, out var signer);

        Assert.IsType<GetServerStatus>(envelope.Body);
        Assert.Null(signer);

        // ... and the reply, with no user key, is signed with the cluster secret.
        var server = Server();
        var reply = server.ToPeer(PeerIdentity, server.Encode(new GetServerStatus(), rid: 4));
        Assert.Equal(32, reply[2].MessageSize);
        Assert.Equal(4, worker.Open(Delivered(reply), 0).Rid);
    }

    [Fact]
    public void AMessageSignedWithAnotherClusterSecret_IsStillABadSignature_OnAServerWithUsers()
    {
        var sent = new WireCodec(RandomNumberGenerator.GetBytes(32), Window).ToServer(new GetServerStatus());
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => Server().Open(Received(sent), 1, out _, out _)).ErrorId);
    }

    [Fact]
    public void AClient_RefusesAReplySignedWithAnotherUsersKeyId()
    {
        var server = Server();
        server.Open(Received(ClientOf(_bob).ToServer(new GetServerStatus())), 1, out _, out var bobs);
        var reply = server.ToPeer(PeerIdentity, server.Encode(new GetServerStatus(), rid: 1), bobs);

        var ex = Assert.Throws<GoqException>(() => ClientOf(_alice).Open(Delivered(reply), 0));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        Assert.Equal(1, ClientOf(_bob).Open(Delivered(reply), 0).Rid); // it was good, for bob
    }

    [Fact]
    public void AClient_RefusesAReplyNamingItsKeyId_ButSignedWithAnotherKey()
    {
        var server = Server();
        var forged = new SigningKey(_alice.KeyId, _bob.Key, new Principal("alice", GoqRole.User));
        var reply = server.ToPeer(PeerIdentity, server.Encode(new GetServerStatus(), rid: 1), forged);
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => ClientOf(_alice).Open(Delivered(reply), 0)).ErrorId);
    }

    [Fact]
    public void AClient_RefusesAReplyNamingAnotherKeyId_EvenWhenMacedWithItsOwnKey()
    {
        // The MAC alone would pass: the id a reply names must be this end's own.
        var server = Server();
        var mislabelled = new SigningKey(_bob.KeyId, _alice.Key, new Principal("bob", GoqRole.Operator));
        var reply = server.ToPeer(PeerIdentity, server.Encode(new GetServerStatus(), rid: 1), mislabelled);
        var ex = Assert.Throws<GoqException>(() => ClientOf(_alice).Open(Delivered(reply), 0));
        Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        Assert.Contains("not this end's", ex.Message);
    }

    [Fact]
    public void AUserClient_RefusesAReplySignedWithTheClusterSecret()
    {
        // A user holds no cluster secret: a reply MACed with it cannot be checked, and is refused.
        var server = Server();
        var reply = server.ToPeer(PeerIdentity, server.Encode(new GetServerStatus(), rid: 1));
        Assert.Equal(GoqErrorIds.BadSignature, Assert.Throws<GoqException>(() => ClientOf(_alice).Open(Delivered(reply), 0)).ErrorId);
    }

    [Fact]
    public void AFakeKeyRing_IsAskedForTheNamedId()
    {
        var ring = new RecordingRing(new SigningKey(_alice.KeyId, _alice.Key, new Principal("alice", GoqRole.Admin)));
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Server(ring).Open(Received(ClientOf(_alice).ToServer(new GetServerStatus())), 1, out _, out var signer);

        Assert.Equal(_alice.KeyId, ring.AskedFor);
        Assert.True(ring.AskedAtMs >= before);
        Assert.Equal(GoqRole.Admin, signer!.Value.Principal.Role);
    }

    [Fact]
    public void AUserSignature_OfTheWrongLength_IsABadSignature()
    {
        var sent = ClientOf(_alice).ToServer(new GetServerStatus());
        var signature = sent[1].ToByteArray();
        foreach (var cut in new[] { signature[..^1], signature[..(UserKey.KeyIdBytes + 16)], [.. signature, 0] })
        {
            var ex = Assert.Throws<GoqException>(() => Server().Open(RawMessages.Of(PeerIdentity, sent[0].ToByteArray(), cut), 1, out _, out _));
            Assert.Equal(GoqErrorIds.BadSignature, ex.ErrorId);
        }
    }

    private sealed class RecordingRing(SigningKey key) : IKeyRing
    {
        public byte[]? AskedFor { get; private set; }

        public long AskedAtMs { get; private set; }

        public SigningKey Find(ReadOnlySpan<byte> keyId, long nowMs)
        {
            AskedFor = keyId.ToArray();
            AskedAtMs = nowMs;
            return key;
        }
    }
}
