using System.Security.Cryptography;
using Goq.Diagnostics;
using Goq.Errors;
using Goq.Identity;
using Goq.Protocol;
using Goq.Server.Access;
using Goq.Storage;
using Goq.Transport;

namespace Goq.Tests.Identity;

public sealed class AccessGateTests
{
    private static readonly Principal Alice = new("alice", GoqRole.User);
    private static readonly Principal Olga = new("olga", GoqRole.Operator);
    private static readonly Principal Ada = new("ada", GoqRole.Admin);

    private readonly List<LogEntry> _log = [];
    private readonly Dictionary<long, JobInfo> _jobs = new()
    {
        [1] = new JobInfo { Id = 1, Owner = "alice" },
        [2] = new JobInfo { Id = 2, Owner = "bob" },
        [4] = new JobInfo { Id = 4, Owner = "carol" },
        [5] = new JobInfo { Id = 5, Owner = "alice" },
    };

    private AccessGate Gate(bool privateJobs = false, UserDirectory? users = null) => new(users, privateJobs, _log.Add);

    private JobInfo? Job(long id) => _jobs.GetValueOrDefault(id);

    private string? OwnerOf(long id) => Job(id)?.Owner;

    [Fact]
    public void Partition_ForAUser_AllowsTheirOwnAndUnknownJobs_AndRefusesTheRest()
    {
        var gate = Gate();
        var (allowed, refused) = gate.Partition(Alice, GoqAction.StopJob, [1, 2, 3, 4, 5], OwnerOf);

        Assert.Equal([1L, 3L, 5L], allowed); // 3 is unknown: kept, to be reported as such
        Assert.NotNull(refused);
        Assert.Equal([2L, 4L], refused.Select(r => r.JobId));
        Assert.Equal(AccessPolicy.Refusal(Alice, GoqAction.StopJob, 2, "bob"), refused[0].Message);
        Assert.Contains("alice (User) may not stop job 2, owned by bob", refused[0].Message);
        Assert.Contains("job 4, owned by carol", refused[1].Message);
        Assert.Contains("only its owner, an Operator or an Admin may", refused[1].Message);
        Assert.Equal(2, gate.Denied);

        Assert.Equal(2, _log.Count);
        Assert.All(_log, e =>
        {
            Assert.Equal("security.denied", e.Event);
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Equal("alice", e.User);
            Assert.Equal("stop", e.Action);
        });
        Assert.Equal([2L, 4L], _log.Select(e => e.JobId!.Value));
        Assert.Equal(refused[0].Message, _log[0].Message);
    }

    [Fact]
    public void Partition_WithNothingRefused_GivesNoRefusals()
    {
        var gate = Gate();
        var (allowed, refused) = gate.Partition(Alice, GoqAction.ReadOutput, [5, 1, 99], OwnerOf);
        Assert.Equal([5L, 1L, 99L], allowed);
        Assert.Null(refused);
        Assert.Equal(0, gate.Denied);
        Assert.Empty(_log);
    }

    [Theory]
    [InlineData(GoqRole.Operator, GoqAction.StopJob)]
    [InlineData(GoqRole.Operator, GoqAction.RemoveJob)]
    [InlineData(GoqRole.Operator, GoqAction.SetJob)]
    [InlineData(GoqRole.Operator, GoqAction.RestartJob)]
    [InlineData(GoqRole.Operator, GoqAction.ReadOutput)]
    [InlineData(GoqRole.Admin, GoqAction.StopJob)]
    [InlineData(GoqRole.Admin, GoqAction.RemoveJob)]
    public void Partition_ForAnOperatorOrAdmin_AllowsEverything_WithoutLookingAnyJobUp(GoqRole role, GoqAction action)
    {
        var gate = Gate(privateJobs: true);
        var lookups = 0;
        long[] ids = [1, 2, 3, 4];

        var (allowed, refused) = gate.Partition(new Principal("olga", role), action, ids, id => { lookups++; return OwnerOf(id); });

        Assert.Equal(ids, allowed);
        Assert.Null(refused);
        Assert.Equal(0, lookups);
        Assert.Equal(0, gate.Denied);
        Assert.Empty(_log);
    }

    [Fact]
    public void Partition_ForTheClusterSecret_AllowsEverything()
    {
        var (allowed, refused) = Gate().Partition(Principal.Cluster, GoqAction.RemoveJob, [2, 4], _ => throw new InvalidOperationException("looked up"));
        Assert.Equal([2L, 4L], allowed);
        Assert.Null(refused);
    }

    [Fact]
    public void Check_OfAJobAction_PassesUnknownAndOwnJobs_AndRefusesOthers()
    {
        var gate = Gate();
        Assert.Null(gate.Check(Alice, GoqAction.SetJob, 3, null));
        Assert.Null(gate.Check(Alice, GoqAction.SetJob, 1, OwnerOf(1)));
        Assert.Null(gate.Check(Olga, GoqAction.SetJob, 2, OwnerOf(2)));
        Assert.Equal(0, gate.Denied);

        var reply = gate.Check(Alice, GoqAction.SetJob, 2, OwnerOf(2));
        Assert.NotNull(reply);
        Assert.Equal(GoqErrorIds.AccessDenied, reply.ErrorId);
        Assert.Equal(GoqErrorKind.PermissionDenied, reply.Kind);
        Assert.Equal(AccessPolicy.Refusal(Alice, GoqAction.SetJob, 2, "bob"), reply.Message);
        Assert.Equal(1, gate.Denied);
        var entry = Assert.Single(_log);
        Assert.Equal(("security.denied", "alice", "change", (long?)2), (entry.Event, entry.User, entry.Action, entry.JobId));
    }

    [Theory]
    [InlineData(GoqAction.StopWorkers, GoqRole.User, false)]
    [InlineData(GoqAction.StopWorkers, GoqRole.Operator, true)]
    [InlineData(GoqAction.SetQueue, GoqRole.Operator, false)]
    [InlineData(GoqAction.ManageUsers, GoqRole.Operator, false)]
    [InlineData(GoqAction.StopServer, GoqRole.Operator, false)]
    [InlineData(GoqAction.StopServer, GoqRole.Admin, true)]
    public void Check_OfAnActionOnNoJob_FollowsTheTable(GoqAction action, GoqRole role, bool allowed)
    {
        var gate = Gate();
        var who = new Principal("olga", role);
        var reply = gate.Check(who, action);

        Assert.Equal(allowed, reply is null);
        Assert.Equal(allowed ? 0 : 1, gate.Denied);
        if (!allowed)
        {
            Assert.Equal(GoqErrorIds.AccessDenied, reply!.ErrorId);
            Assert.Equal(AccessPolicy.Refusal(who, action), reply.Message);
            var entry = Assert.Single(_log);
            Assert.Equal("security.denied", entry.Event);
            Assert.Equal("olga", entry.User);
            Assert.Equal(AccessPolicy.Verb(action), entry.Action);
            Assert.Null(entry.JobId);
        }
    }

    [Fact]
    public void Revoked_IsACredentialRevokedRefusal_CountedAndLogged()
    {
        var gate = Gate();
        var reply = gate.Revoked(Alice, "submit");

        Assert.Equal(GoqErrorIds.CredentialRevoked, reply.ErrorId);
        Assert.Equal(GoqErrorKind.Security, reply.Kind);
        Assert.Contains("the key of alice was revoked", reply.Message);
        Assert.Contains("Grant-GoqUser -User alice", reply.Message);
        Assert.Equal(1, gate.Denied);
        var entry = Assert.Single(_log);
        Assert.Equal(("security.denied", "alice", "submit"), (entry.Event, entry.User, entry.Action));
        Assert.Equal(reply.Message, entry.Message);
    }

    [Fact]
    public void Denials_AreAllCounted_ButTheLogTakesTheFirstHundredThenEveryThousandth()
    {
        var gate = Gate();
        for (var i = 0; i < 2000; i++)
        {
            Assert.NotNull(gate.Check(Alice, GoqAction.StopServer));
        }

        Assert.Equal(2000, gate.Denied);
        Assert.Equal(102, _log.Count); // 1..100, 1000, 2000
    }

    [Fact]
    public void OnlyOwner_IsTheUsersName_WhenJobsArePrivate()
    {
        var open = Gate(privateJobs: false);
        Assert.False(open.PrivateJobs);
        Assert.Null(open.OnlyOwner(Alice));
        Assert.Null(open.OnlyOwner(Olga));
        Assert.Null(open.OnlyOwner(Principal.Cluster));

        var closed = Gate(privateJobs: true);
        Assert.True(closed.PrivateJobs);
        Assert.Equal("alice", closed.OnlyOwner(Alice));
        Assert.Null(closed.OnlyOwner(Olga));
        Assert.Null(closed.OnlyOwner(Ada));
        Assert.Null(closed.OnlyOwner(Principal.Cluster));
        Assert.Equal("", closed.OnlyOwner(new Principal(null, GoqRole.User))); // sees nobody's rather than everybody's
    }

    [Fact]
    public void MaySee_AsksThePolicyWithTheGatesPrivacy()
    {
        Assert.True(Gate(privateJobs: false).MaySee(Alice, "bob"));
        Assert.False(Gate(privateJobs: true).MaySee(Alice, "bob"));
        Assert.True(Gate(privateJobs: true).MaySee(Alice, "alice"));
        Assert.True(Gate(privateJobs: true).MaySee(Olga, "bob"));
    }

    [Fact]
    public void Sender_OfTheClusterSecret_IsTheCluster_AndNoKeyIsRemembered()
    {
        var gate = Gate();
        var peer = new PeerId("AAEC");
        Assert.Same(Principal.Cluster, gate.Sender(peer, null, 1000));
        Assert.Null(gate.KeyFor(peer));
        Assert.Null(gate.Users);
    }

    [Fact]
    public void Sender_OfAUserKey_IsItsPrincipal_AndThePeersKeyIsRemembered()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var users = new UserDirectory(secret, new StoreCounters());
        var key = users.Grant("alice", GoqRole.Operator, newKey: false, DateTimeOffset.UnixEpoch).Key!;
        var signer = users.Find(key.KeyId, 0);
        var gate = Gate(users: users);
        var peer = new PeerId("cGVlcjE=");
        var other = new PeerId("cGVlcjI=");
        var now = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

        var who = gate.Sender(peer, signer, now.ToUnixTimeMilliseconds());

        Assert.Equal(new Principal("alice", GoqRole.Operator), who);
        Assert.Same(users, gate.Users);
        var remembered = gate.KeyFor(peer);
        Assert.NotNull(remembered);
        Assert.Equal(key.KeyId, remembered.Value.KeyId);
        Assert.Equal(key.Key, remembered.Value.Key);
        Assert.Null(gate.KeyFor(other));
        Assert.Equal(now, users.List().Single().LastSeen); // seen
        Assert.Equal(0, gate.Denied);
    }

    [Fact]
    public void Sender_OfARevokedKey_IsRemembered_ButNotSeen()
    {
        var users = new UserDirectory(RandomNumberGenerator.GetBytes(32), new StoreCounters());
        var key = users.Grant("alice", GoqRole.User, newKey: false, DateTimeOffset.UnixEpoch).Key!;
        users.Revoke("alice", DateTimeOffset.UnixEpoch);
        var gate = Gate(users: users);
        var peer = new PeerId("cGVlcjE=");

        var who = gate.Sender(peer, users.Find(key.KeyId, 0), 5_000_000);

        Assert.Equal("alice", who.Name);
        Assert.True(gate.KeyFor(peer)!.Value.Revoked); // the refusal goes back signed with the key they hold
        Assert.Null(users.List().Single().LastSeen);
    }

    [Fact]
    public void Sender_ThatChangesItsKey_IsRememberedWithTheNewOne()
    {
        var users = new UserDirectory(RandomNumberGenerator.GetBytes(32), new StoreCounters());
        var alice = users.Grant("alice", GoqRole.User, newKey: false, DateTimeOffset.UnixEpoch).Key!;
        var bob = users.Grant("bob", GoqRole.User, newKey: false, DateTimeOffset.UnixEpoch).Key!;
        var gate = Gate(users: users);
        var peer = new PeerId("cGVlcjE=");

        gate.Sender(peer, users.Find(alice.KeyId, 0), 1);
        Assert.Equal("bob", gate.Sender(peer, users.Find(bob.KeyId, 0), 2).Name);
        Assert.Equal(bob.KeyId, gate.KeyFor(peer)!.Value.KeyId);
    }

    [Fact]
    public void PeersPastTheCap_ForgetTheHalfSeenLongestAgo()
    {
        const int cap = 100_000;
        var gate = Gate();
        var key = new SigningKey(new byte[8], new byte[32], Alice);
        for (var i = 0; i < cap; i++)
        {
            gate.Sender(new PeerId("p" + i), key, i);
        }

        gate.Sender(new PeerId("p7"), key, cap + 1); // a peer already known: nothing is forgotten
        Assert.NotNull(gate.KeyFor(new PeerId("p0")));

        gate.Sender(new PeerId("new"), key, cap + 2);

        Assert.NotNull(gate.KeyFor(new PeerId("new")));
        Assert.NotNull(gate.KeyFor(new PeerId("p7"))); // seen again last: kept
        Assert.Null(gate.KeyFor(new PeerId("p0")));
        Assert.Null(gate.KeyFor(new PeerId("p" + (cap / 2))));
        Assert.NotNull(gate.KeyFor(new PeerId("p" + (cap / 2 + 1))));
        Assert.NotNull(gate.KeyFor(new PeerId("p" + (cap - 1))));
    }
}
