using System.Buffers.Binary;
using Goq.Errors;
using Goq.Identity;
using Goq.Storage;
using Goq.Transport;

namespace Goq.Server.Access;

/// <summary>
/// The users of a multi-user cluster: the one owner of their records (kept with the jobs, in the store's settings) and
/// the server's key ring. A user's key is never stored: it is derived from the cluster secret and the key's id when a
/// message names the id (<see cref="UserKey.Derive"/>), and kept derived in memory. A revoked key is still found, so
/// that its holder can be told (<see cref="GoqErrorIds.CredentialRevoked"/>), but never acts.
/// Used on the server's loop thread only.
/// </summary>
public sealed class UserDirectory : IKeyRing
{
    /// <summary>How often a user's last-seen time is stored: often enough to read, rarely enough to cost nothing.</summary>
    private static readonly TimeSpan SeenEvery = TimeSpan.FromMinutes(5);

    private readonly byte[] _clusterSecret;
    private readonly StoreCounters _stored;
    private readonly Dictionary<string, GoqUser> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, (GoqUser User, SigningKey Key)> _byKeyId = [];

    public UserDirectory(byte[] clusterSecret, StoreCounters stored)
    {
        _clusterSecret = clusterSecret.ToArray();
        _stored = stored;
        foreach (var user in stored.LoadUsers())
        {
            Add(user);
        }
    }

    public int Count => _byName.Count;

    /// <inheritdoc/>
    public SigningKey Find(ReadOnlySpan<byte> keyId, long nowMs)
    {
        if (keyId.Length != UserKey.KeyIdBytes || !_byKeyId.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(keyId), out var entry))
        {
            throw new GoqException(GoqErrorIds.BadSignature, GoqErrorKind.Security, "a message named a user key this server never gave (or gave in another cluster)");
        }

        return entry.Key;
    }

    /// <summary>Notes that a message signed with the user's good key was taken; stored now and then (<see cref="SeenEvery"/>).</summary>
    public void Seen(string name, DateTimeOffset now)
    {
        if (_byName.TryGetValue(name, out var user) && (user.LastSeen is not { } last || now - last >= SeenEvery))
        {
            user.LastSeen = now;
            _stored.SaveUser(user);
        }
    }

    /// <summary>The users by name, each a copy.</summary>
    public IReadOnlyList<GoqUser> List() => [.. _byName.Values.OrderBy(u => u.Name, StringComparer.Ordinal).Select(u => u.Copy())];

    /// <summary>
    /// Gives <paramref name="name"/> a key with <paramref name="role"/>, or a new role. A user with a good key keeps it
    /// unless <paramref name="newKey"/>; a revoked user gets a new one. Returns the user and the new key, if one was made.
    /// </summary>
    public (GoqUser User, UserKey? Key) Grant(string name, GoqRole role, bool newKey, DateTimeOffset now)
    {
        CheckName(name);
        if (_byName.TryGetValue(name, out var user) && user.Revoked is null && !newKey)
        {
            user.Role = role;
            Store(user);
            return (user.Copy(), null);
        }

        var keyId = UserKey.NewKeyId();
        var granted = new GoqUser { Name = name, Role = role, KeyId = UserKey.Hex(keyId), Created = now };
        Add(granted);
        _stored.SaveUser(granted);
        return (granted.Copy(), UserKey.Derive(_clusterSecret, name, keyId));
    }

    /// <summary>Gives a user another role (from their next message on).</summary>
    public GoqUser SetRole(string name, GoqRole role)
    {
        var user = Get(name);
        user.Role = role;
        Store(user);
        return user.Copy();
    }

    /// <summary>Revokes a user's key: their next message is refused.</summary>
    public GoqUser Revoke(string name, DateTimeOffset now)
    {
        var user = Get(name);
        user.Revoked ??= now;
        Store(user);
        return user.Copy();
    }

    private GoqUser Get(string name)
    {
        CheckName(name);
        return _byName.TryGetValue(name, out var user) ? user
            : throw new GoqException(GoqErrorIds.UserNotFound, GoqErrorKind.NotFound, $"the cluster has no user '{name}' (Get-GoqUser lists them)") { Target = name };
    }

    private static void CheckName(string name)
    {
        if (!UserNames.IsValid(name))
        {
            throw new GoqException(GoqErrorIds.InvalidUser, GoqErrorKind.InvalidArgument,
                $"'{name}' is not a user name: 1 to {UserNames.MaxLength} letters, digits, '.', '_' or '-', not starting with '-' or '.'") { Target = name };
        }
    }

    private void Store(GoqUser user)
    {
        Add(user);
        _stored.SaveUser(user);
    }

    /// <summary>Takes a user's record as it now is: their key (derived again only when it changed) and their role.</summary>
    private void Add(GoqUser user)
    {
        if (_byName.TryGetValue(user.Name, out var old) && old.KeyId != user.KeyId && UserKey.ParseKeyId(old.KeyId) is { } oldId)
        {
            _byKeyId.Remove(BinaryPrimitives.ReadUInt64BigEndian(oldId)); // a new key: the old id names nobody any more
        }

        _byName[user.Name] = user;
        if (UserKey.ParseKeyId(user.KeyId) is not { } id)
        {
            return; // a record whose key id does not parse (edited by hand) signs nothing
        }

        var key = UserKey.Derive(_clusterSecret, user.Name, id);
        var principal = new Principal(user.Name, user.Role);
        _byKeyId[BinaryPrimitives.ReadUInt64BigEndian(id)] = (user, new SigningKey(id, key.Key, principal, user.Revoked is not null));
    }
}
