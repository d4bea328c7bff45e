using System.Security.Cryptography;
using Goq.Errors;
using Goq.Identity;
using Goq.Server.Access;
using Goq.Storage;

namespace Goq.Tests.Identity;

public sealed class UserDirectoryTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private readonly StoreCounters _stored = new();
    private readonly UserDirectory _users;

    public UserDirectoryTests()
    {
        _users = new UserDirectory(_secret, _stored);
    }

    private static GoqException Fails(Action action) => Assert.Throws<GoqException>(action);

    private (GoqUser User, UserKey Key) GrantNew(string name, GoqRole role = GoqRole.User)
    {
        var (user, key) = _users.Grant(name, role, newKey: false, T0);
        Assert.NotNull(key);
        return (user, key);
    }

    [Fact]
    public void Grant_GivesTheKeyTheServerDerives_AndTheRecordNamesItsId()
    {
        var (user, key) = GrantNew("alice", GoqRole.Operator);

        Assert.Equal("alice", key.User);
        Assert.Equal(UserKey.Derive(_secret, "alice", key.KeyId).Key, key.Key);
        Assert.Equal("alice", user.Name);
        Assert.Equal(GoqRole.Operator, user.Role);
        Assert.Equal(key.KeyIdText, user.KeyId);
        Assert.Equal(T0, user.Created);
        Assert.Null(user.LastSeen);
        Assert.Null(user.Revoked);
        Assert.Equal(1, _users.Count);

        var found = _users.Find(key.KeyId, 0);
        Assert.Equal(key.KeyId, found.KeyId);
        Assert.Equal(key.Key, found.Key);
        Assert.Equal(new Principal("alice", GoqRole.Operator), found.Principal);
        Assert.False(found.Revoked);
    }

    [Fact]
    public void TwoUsers_GetDifferentIdsAndKeys()
    {
        var (_, alice) = GrantNew("alice");
        var (_, bob) = GrantNew("bob");
        Assert.NotEqual(alice.KeyId, bob.KeyId);
        Assert.NotEqual(alice.Key, bob.Key);
        Assert.Equal("alice", _users.Find(alice.KeyId, 0).Principal.Name);
        Assert.Equal("bob", _users.Find(bob.KeyId, 0).Principal.Name);
        Assert.Equal(["alice", "bob"], _users.List().Select(u => u.Name));
    }

    [Fact]
    public void GrantAgain_WithoutNewKey_KeepsTheKey_AndChangesTheRole()
    {
        var (_, key) = GrantNew("alice");
        var (user, again) = _users.Grant("alice", GoqRole.Admin, newKey: false, T0.AddDays(1));

        Assert.Null(again);
        Assert.Equal(key.KeyIdText, user.KeyId);
        Assert.Equal(GoqRole.Admin, user.Role);
        Assert.Equal(T0, user.Created);
        Assert.Equal(new Principal("alice", GoqRole.Admin), _users.Find(key.KeyId, 0).Principal);
        Assert.Equal(1, _users.Count);
    }

    [Fact]
    public void GrantWithNewKey_GivesAnotherId_AndTheOldIdIsNoLongerFound()
    {
        var (_, old) = GrantNew("alice");
        var (user, fresh) = _users.Grant("alice", GoqRole.User, newKey: true, T0.AddHours(1));

        Assert.NotNull(fresh);
        Assert.NotEqual(old.KeyId, fresh.KeyId);
        Assert.NotEqual(old.Key, fresh.Key);
        Assert.Equal(fresh.KeyIdText, user.KeyId);
        Assert.Equal(UserKey.Derive(_secret, "alice", fresh.KeyId).Key, fresh.Key);
        Assert.Equal(fresh.Key, _users.Find(fresh.KeyId, 0).Key);
        Assert.Equal(GoqErrorIds.BadSignature, Fails(() => _users.Find(old.KeyId, 0)).ErrorId);
        Assert.Equal(1, _users.Count);
        Assert.Equal(fresh.KeyIdText, Assert.Single(_users.List()).KeyId);
    }

    [Fact]
    public void SetRole_ChangesThePrincipalFindReturns()
    {
        var (_, key) = GrantNew("alice");
        var changed = _users.SetRole("alice", GoqRole.Operator);

        Assert.Equal(GoqRole.Operator, changed.Role);
        Assert.Equal(key.KeyIdText, changed.KeyId);
        var found = _users.Find(key.KeyId, 0);
        Assert.Equal(new Principal("alice", GoqRole.Operator), found.Principal);
        Assert.Equal(key.Key, found.Key);

        _users.SetRole("alice", GoqRole.User);
        Assert.Equal(GoqRole.User, _users.Find(key.KeyId, 0).Principal.Role);
    }

    [Fact]
    public void Revoke_MarksTheKeyRevoked_ButStillFindsIt()
    {
        var (_, key) = GrantNew("alice");
        var revoked = _users.Revoke("alice", T0.AddMinutes(1));

        Assert.Equal(T0.AddMinutes(1), revoked.Revoked);
        var found = _users.Find(key.KeyId, 0);
        Assert.True(found.Revoked);
        Assert.Equal(key.Key, found.Key);
        Assert.Equal("alice", found.Principal.Name);

        // Revoked once: a second revocation keeps the first time.
        Assert.Equal(T0.AddMinutes(1), _users.Revoke("alice", T0.AddMinutes(2)).Revoked);
        Assert.Equal(T0.AddMinutes(1), Assert.Single(_users.List()).Revoked);
    }

    [Fact]
    public void Revoke_ThenSetRole_KeepsTheKeyRevoked()
    {
        var (_, key) = GrantNew("alice");
        _users.Revoke("alice", T0);
        _users.SetRole("alice", GoqRole.Admin);
        var found = _users.Find(key.KeyId, 0);
        Assert.True(found.Revoked);
        Assert.Equal(GoqRole.Admin, found.Principal.Role);
    }

    [Fact]
    public void GrantToARevokedUser_GivesANewKey_EvenWithoutNewKey()
    {
        var (_, old) = GrantNew("alice");
        _users.Revoke("alice", T0);

        var (user, fresh) = _users.Grant("alice", GoqRole.User, newKey: false, T0.AddDays(1));

        Assert.NotNull(fresh);
        Assert.NotEqual(old.KeyId, fresh.KeyId);
        Assert.Null(user.Revoked);
        Assert.False(_users.Find(fresh.KeyId, 0).Revoked);
        Assert.Equal(GoqErrorIds.BadSignature, Fails(() => _users.Find(old.KeyId, 0)).ErrorId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData(".x")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("é")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void InvalidNames_AreRefused_AsInvalidUser(string name)
    {
        var grant = Fails(() => _users.Grant(name, GoqRole.User, newKey: false, T0));
        Assert.Equal(GoqErrorIds.InvalidUser, grant.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, grant.Kind);
        Assert.Equal(name, grant.Target);
        Assert.Equal(GoqErrorIds.InvalidUser, Fails(() => _users.SetRole(name, GoqRole.Admin)).ErrorId);
        Assert.Equal(GoqErrorIds.InvalidUser, Fails(() => _users.Revoke(name, T0)).ErrorId);
        Assert.Equal(0, _users.Count);
        Assert.Empty(_stored.Users);
    }

    [Fact]
    public void UnknownUsers_AreNotFound_ForSetRoleAndRevoke()
    {
        GrantNew("alice");
        var version = _stored.SettingsVersion;

        var set = Fails(() => _users.SetRole("bob", GoqRole.Admin));
        Assert.Equal(GoqErrorIds.UserNotFound, set.ErrorId);
        Assert.Equal(GoqErrorKind.NotFound, set.Kind);
        Assert.Contains("'bob'", set.Message);
        Assert.Equal(GoqErrorIds.UserNotFound, Fails(() => _users.Revoke("bob", T0)).ErrorId);
        Assert.Equal(GoqErrorIds.UserNotFound, Fails(() => _users.SetRole("Alice", GoqRole.Admin)).ErrorId); // names are exact
        Assert.Equal(version, _stored.SettingsVersion);
        Assert.Equal(1, _users.Count);
    }

    [Fact]
    public void Find_RefusesAnIdOfTheWrongLength()
    {
        var (_, key) = GrantNew("alice");
        Assert.Equal(GoqErrorIds.BadSignature, Fails(() => _users.Find(key.KeyId.AsSpan(0, 7), 0)).ErrorId);
        Assert.Equal(GoqErrorIds.BadSignature, Fails(() => _users.Find([.. key.KeyId, 0], 0)).ErrorId);
        Assert.Equal(GoqErrorIds.BadSignature, Fails(() => _users.Find([], 0)).ErrorId);
    }

    [Fact]
    public void EveryChange_IsStagedInTheStore()
    {
        var v0 = _stored.SettingsVersion;
        GrantNew("alice");
        var v1 = _stored.SettingsVersion;
        _users.SetRole("alice", GoqRole.Operator);
        var v2 = _stored.SettingsVersion;
        _users.Revoke("alice", T0);
        var v3 = _stored.SettingsVersion;

        Assert.True(v1 > v0 && v2 > v1 && v3 > v2, $"{v0} {v1} {v2} {v3}");
        Assert.Equal(["alice"], _stored.Users.Keys);
        var stored = Assert.Single(_stored.LoadUsers());
        Assert.Equal(GoqRole.Operator, stored.Role);
        Assert.Equal(T0, stored.Revoked);
    }

    [Fact]
    public void TheStore_NeverHoldsAKey()
    {
        var (_, key) = GrantNew("alice");
        var json = _stored.Users["alice"];
        Assert.Contains(key.KeyIdText, json);
        Assert.DoesNotContain(Convert.ToHexString(key.Key).ToLowerInvariant(), json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(key.Key), json);
    }

    [Fact]
    public void ADirectoryRebuiltFromTheStore_FindsTheSameUsersAndKeys()
    {
        var (_, alice) = GrantNew("alice", GoqRole.Operator);
        var (_, bob) = GrantNew("bob");
        var (_, carol) = GrantNew("carol", GoqRole.Admin);
        _users.Revoke("bob", T0.AddMinutes(3));
        _users.Seen("carol", T0.AddMinutes(4));

        // The same counters, and a copy made only of the stored JSON (what a restart reads).
        var copied = new StoreCounters();
        foreach (var (name, json) in _stored.Users)
        {
            copied.Users[name] = json;
        }

        foreach (var stored in new[] { _stored, copied })
        {
            var again = new UserDirectory(_secret, stored);
            Assert.Equal(3, again.Count);

            var a = again.Find(alice.KeyId, 0);
            Assert.Equal(alice.Key, a.Key);
            Assert.Equal(new Principal("alice", GoqRole.Operator), a.Principal);
            Assert.False(a.Revoked);

            var b = again.Find(bob.KeyId, 0);
            Assert.Equal(bob.Key, b.Key);
            Assert.True(b.Revoked);

            Assert.Equal(new Principal("carol", GoqRole.Admin), again.Find(carol.KeyId, 0).Principal);

            var listed = again.List();
            Assert.Equal(["alice", "bob", "carol"], listed.Select(u => u.Name));
            Assert.Equal(T0.AddMinutes(3), listed[1].Revoked);
            Assert.Equal(T0.AddMinutes(4), listed[2].LastSeen);
            Assert.Equal(T0, listed[0].Created);
            Assert.Equal(_users.List().Select(u => (u.Name, u.Role, u.KeyId)), listed.Select(u => (u.Name, u.Role, u.KeyId)));
        }
    }

    [Fact]
    public void ADirectoryRebuiltWithAnotherClusterSecret_DerivesOtherKeys()
    {
        var (_, alice) = GrantNew("alice");
        var other = new UserDirectory(RandomNumberGenerator.GetBytes(32), _stored);
        Assert.NotEqual(alice.Key, other.Find(alice.KeyId, 0).Key);
    }

    [Fact]
    public void ARecordWithAKeyIdThatDoesNotParse_IsListed_ButSignsNothing()
    {
        GrantNew("alice");
        var broken = new GoqUser { Name = "mallory", Role = GoqRole.Admin, KeyId = "not-hex", Created = T0 };
        _stored.SaveUser(broken);

        var again = new UserDirectory(_secret, _stored);

        Assert.Equal(["alice", "mallory"], again.List().Select(u => u.Name));
    }

    [Fact]
    public void Seen_IsStoredAtMostEveryFiveMinutes()
    {
        GrantNew("alice");
        LastSeen(null);

        _users.Seen("alice", T0);
        LastSeen(T0);
        var version = _stored.SettingsVersion;

        _users.Seen("alice", T0.AddMinutes(4).AddSeconds(59));
        LastSeen(T0);
        Assert.Equal(version, _stored.SettingsVersion); // nothing to write

        _users.Seen("alice", T0.AddMinutes(5));
        LastSeen(T0.AddMinutes(5));
        Assert.True(_stored.SettingsVersion > version);

        _users.Seen("alice", T0.AddMinutes(6));
        LastSeen(T0.AddMinutes(5));

        _users.Seen("alice", T0.AddMinutes(11));
        LastSeen(T0.AddMinutes(11));
        Assert.Equal(T0.AddMinutes(11), _stored.LoadUsers().Single().LastSeen);

        void LastSeen(DateTimeOffset? expected) => Assert.Equal(expected, _users.List().Single().LastSeen);
    }

    [Fact]
    public void Seen_OfAnUnknownUser_ChangesNothing()
    {
        GrantNew("alice");
        var version = _stored.SettingsVersion;
        _users.Seen("bob", T0);
        Assert.Equal(version, _stored.SettingsVersion);
        Assert.Null(_users.List().Single().LastSeen);
    }

    [Fact]
    public void List_GivesCopies()
    {
        var (_, key) = GrantNew("alice");
        var listed = _users.List().Single();
        listed.Role = GoqRole.Admin;
        listed.Revoked = T0;
        listed.KeyId = "0000000000000000";

        var again = _users.List().Single();
        Assert.Equal(GoqRole.User, again.Role);
        Assert.Null(again.Revoked);
        Assert.Equal(key.KeyIdText, again.KeyId);
        Assert.False(_users.Find(key.KeyId, 0).Revoked);
    }

    [Fact]
    public void GrantsReturnCopies()
    {
        var (user, key) = GrantNew("alice");
        user.Role = GoqRole.Admin;
        Assert.Equal(GoqRole.User, _users.Find(key.KeyId, 0).Principal.Role);
        Assert.Equal(GoqRole.User, _users.List().Single().Role);
    }
}
