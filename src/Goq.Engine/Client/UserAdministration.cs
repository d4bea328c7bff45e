using Goq.Identity;
using Goq.Protocol;

namespace Goq.Client;

/// <summary>The requests about a multi-user cluster's users (Grant-, Get-, Set-, Revoke-GoqUser).</summary>
public static class UserAdministration
{
    /// <summary>Gives a user a new key (revoking any earlier one) and a role; the reply carries the key, once.</summary>
    public static Task<UserGrantedReply> GrantUserAsync(this GoqClient client, string user, GoqRole role, CancellationToken cancel = default) =>
        client.RequestAsync<UserGrantedReply>(new GrantUser(user, role, NewKey: true), cancel);

    public static async Task<IReadOnlyList<GoqUser>> GetUsersAsync(this GoqClient client, CancellationToken cancel = default) =>
        (await client.RequestAsync<UsersReply>(new GetUsers(), cancel).ConfigureAwait(false)).Users;

    public static async Task<GoqUser> SetUserRoleAsync(this GoqClient client, string user, GoqRole role, CancellationToken cancel = default) =>
        (await client.RequestAsync<UsersReply>(new SetUser(user, role), cancel).ConfigureAwait(false)).Users[0];

    public static async Task<GoqUser> RevokeUserAsync(this GoqClient client, string user, CancellationToken cancel = default) =>
        (await client.RequestAsync<UsersReply>(new RevokeUser(user), cancel).ConfigureAwait(false)).Users[0];
}
