using Goq.Diagnostics;
using Goq.Errors;
using Goq.Identity;
using Goq.Protocol;
using Goq.Transport;

namespace Goq.Server.Access;

/// <summary>
/// Where the server asks the role table (<see cref="AccessPolicy"/>) about each request, and what it does with a no: a
/// refusal that says what was refused and who may do it, counted (<see cref="Denied"/>) and logged
/// (<c>security.denied</c>, with the user, the action and the job). Also remembers which user key each peer signs with,
/// so that what the server sends a user is signed with the one key they hold. In a home that is not multi-user every
/// message comes with the cluster secret and every check passes. Used on the server's loop thread only.
/// </summary>
public sealed class AccessGate(UserDirectory? users, bool privateJobs, Action<LogEntry> log)
{
    /// <summary>Peers remembered at most; past it the half seen longest ago are forgotten (a client making a new connection each time).</summary>
    private const int MaxPeers = 100_000;

    private readonly Dictionary<PeerId, (SigningKey Key, long SeenMs)> _peerKeys = [];

    /// <summary>The cluster's users; null for a home that is not multi-user.</summary>
    public UserDirectory? Users => users;

    public bool PrivateJobs => privateJobs;

    /// <summary>Requests refused for lack of rights (and messages with a revoked key), since the server started.</summary>
    public long Denied { get; private set; }

    /// <summary>
    /// Who sent a message that <paramref name="signer"/> signed (null: the cluster secret), noting the peer's key for
    /// what is sent back and the user as seen.
    /// </summary>
    public Principal Sender(PeerId peer, SigningKey? signer, long nowMs)
    {
        if (signer is not { } key)
        {
            return Principal.Cluster;
        }

        if (_peerKeys.Count >= MaxPeers && !_peerKeys.ContainsKey(peer))
        {
            foreach (var old in _peerKeys.OrderBy(p => p.Value.SeenMs).Take(MaxPeers / 2).Select(p => p.Key).ToList())
            {
                _peerKeys.Remove(old);
            }
        }

        _peerKeys[peer] = (key, nowMs);
        if (!key.Revoked)
        {
            users?.Seen(key.Principal.Name!, DateTimeOffset.FromUnixTimeMilliseconds(nowMs));
        }

        return key.Principal;
    }

    /// <summary>The user key to sign what goes to <paramref name="peer"/> with; null: the cluster secret.</summary>
    public SigningKey? KeyFor(PeerId peer) => _peerKeys.TryGetValue(peer, out var entry) ? entry.Key : null;

    /// <summary>The refusal of a message signed with a revoked key (counted and logged).</summary>
    public ErrorReply Revoked(Principal who, string asked)
    {
        var message = $"access denied: the key of {who.Name} was revoked; the server takes nothing signed with it (an Admin grants a new one: Grant-GoqUser -User {who.Name})";
        Deny(who, asked, null, message);
        return new ErrorReply(GoqErrorIds.CredentialRevoked, message, GoqErrorKind.Security);
    }

    /// <summary>Null when <paramref name="who"/> may do <paramref name="action"/>; else the refusal, counted and logged.</summary>
    public ErrorReply? Check(Principal who, GoqAction action)
    {
        if (AccessPolicy.Refusal(who, action) is not { } message)
        {
            return null;
        }

        Deny(who, AccessPolicy.Verb(action), null, message);
        return new ErrorReply(GoqErrorIds.AccessDenied, message, GoqErrorKind.PermissionDenied);
    }

    /// <summary>Null when <paramref name="who"/> may do <paramref name="action"/> to job <paramref name="jobId"/> of <paramref name="owner"/> (null: unknown, reported as such).</summary>
    public ErrorReply? Check(Principal who, GoqAction action, long jobId, string? owner) =>
        owner is null || Refuse(who, action, jobId, owner) is not { } refusal
            ? null
            : new ErrorReply(GoqErrorIds.AccessDenied, refusal.Message, GoqErrorKind.PermissionDenied);

    /// <summary>
    /// The ids <paramref name="who"/> may do <paramref name="action"/> to, and a refusal for each of the others (counted
    /// and logged). Ids of unknown jobs are kept, to be reported unknown; a task of an array not made yet is its array's.
    /// </summary>
    public (IReadOnlyList<long> Allowed, IReadOnlyList<AccessRefusal>? Refused) Partition(Principal who, GoqAction action, IReadOnlyList<long> ids, Func<long, string?> ownerOf)
    {
        if (who.Role >= AccessPolicy.LeastRoleFor(action))
        {
            return (ids, null); // an Operator or an Admin: no job to look up
        }

        var allowed = new List<long>(ids.Count);
        List<AccessRefusal>? refused = null;
        foreach (var id in ids)
        {
            if (ownerOf(id) is { } owner && Refuse(who, action, id, owner) is { } refusal)
            {
                (refused ??= []).Add(refusal);
            }
            else
            {
                allowed.Add(id);
            }
        }

        return (allowed, refused);
    }

    /// <summary>Whether <paramref name="who"/> sees jobs of <paramref name="owner"/>'s (all, unless the server keeps jobs private).</summary>
    public bool MaySee(Principal who, string owner) => AccessPolicy.MaySee(who, owner, privateJobs);

    /// <summary>The owner whose jobs alone <paramref name="who"/> lists; null: everyone's.</summary>
    public string? OnlyOwner(Principal who) => privateJobs && who.Role < GoqRole.Operator ? who.Name ?? "" : null;

    private AccessRefusal? Refuse(Principal who, GoqAction action, long jobId, string owner)
    {
        if (AccessPolicy.Refusal(who, action, jobId, owner) is not { } message)
        {
            return null;
        }

        Deny(who, AccessPolicy.Verb(action), jobId, message);
        return new AccessRefusal(jobId, message);
    }

    private void Deny(Principal who, string action, long? jobId, string message)
    {
        Denied++;
        if (Denied <= 100 || Denied % 1000 == 0)
        {
            log(LogEntry.Warning("security.denied", message, job: jobId) with { User = who.Name, Action = action });
        }
    }
}
