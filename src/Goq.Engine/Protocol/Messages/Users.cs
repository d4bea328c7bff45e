using Goq.Identity;

namespace Goq.Protocol;

/// <summary>
/// Client → server (an Admin): gives <paramref name="User"/> a key of their own with <paramref name="Role"/>. A user who
/// has a good key keeps it (the reply has no key) unless <paramref name="NewKey"/>, which revokes the old one. Replied
/// to with <see cref="UserGrantedReply"/>, once the user is stored.
/// </summary>
public sealed record GrantUser(string User, GoqRole Role, bool NewKey = false) : ClientRequest;

/// <summary>
/// Server → client: the user as stored, and the key file's text (<see cref="UserKey.ToFileText"/>) when a key was made:
/// it travels only over CURVE, to an Admin, and the server keeps no copy (it derives the key from its id again).
/// </summary>
public sealed record UserGrantedReply(GoqUser User, string? KeyText) : GoqMessage;

/// <summary>Client → server: the cluster's users (anyone may list them: names and roles, never keys). Replied to with <see cref="UsersReply"/>.</summary>
public sealed record GetUsers : ClientRequest;

/// <summary>Client → server (an Admin): gives a user another role. Replied to with <see cref="UsersReply"/> holding the user.</summary>
public sealed record SetUser(string User, GoqRole Role) : ClientRequest;

/// <summary>Client → server (an Admin): revokes a user's key; their next message is refused. Replied to with <see cref="UsersReply"/>.</summary>
public sealed record RevokeUser(string User) : ClientRequest;

/// <summary>Server → client: users, by name.</summary>
public sealed record UsersReply(IReadOnlyList<GoqUser> Users) : GoqMessage;

/// <summary>One job of a request that the sender may not change: its id and the refusal (who may do it).</summary>
public sealed record AccessRefusal(long JobId, string Message);
