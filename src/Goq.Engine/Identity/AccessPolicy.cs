namespace Goq.Identity;

/// <summary>What a request asks to do, as the role table knows it.</summary>
public enum GoqAction
{
    /// <summary>Stop (cancel) a job.</summary>
    StopJob,

    /// <summary>Remove an ended job's record.</summary>
    RemoveJob,

    /// <summary>Change a waiting job: hold, resume, priority and the rest of Set-GoqJob.</summary>
    SetJob,

    /// <summary>Run an ended job again.</summary>
    RestartJob,

    /// <summary>Read a job's output through the server.</summary>
    ReadOutput,

    /// <summary>Drain or stop workers.</summary>
    StopWorkers,

    /// <summary>Set a queue's limits.</summary>
    SetQueue,

    /// <summary>Grant, change or revoke users.</summary>
    ManageUsers,

    /// <summary>Stop the server.</summary>
    StopServer,
}

/// <summary>
/// The role table: who may do what. A User changes only their own jobs; an Operator anyone's, and stops or drains
/// workers; an Admin everything. Anyone submits and lists (unless the server keeps jobs private). Pure: the server asks
/// it with the sender and the job's owner, and says its answer to the sender as <c>GoqAccessDenied</c>.
/// </summary>
public static class AccessPolicy
{
    /// <summary>The least role that may do <paramref name="action"/> to a job someone else owns, or at all for the rest.</summary>
    public static GoqRole LeastRoleFor(GoqAction action) => action switch
    {
        GoqAction.StopJob or GoqAction.RemoveJob or GoqAction.SetJob or GoqAction.RestartJob or GoqAction.ReadOutput => GoqRole.Operator,
        GoqAction.StopWorkers => GoqRole.Operator,
        GoqAction.SetQueue or GoqAction.ManageUsers or GoqAction.StopServer => GoqRole.Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    /// <summary>True for the actions that are about one job, which its owner may always do.</summary>
    public static bool IsJobAction(GoqAction action) =>
        action is GoqAction.StopJob or GoqAction.RemoveJob or GoqAction.SetJob or GoqAction.RestartJob or GoqAction.ReadOutput;

    /// <summary>Whether <paramref name="who"/> may do <paramref name="action"/> (to a job owned by <paramref name="owner"/>).</summary>
    public static bool Allows(Principal who, GoqAction action, string? owner = null) =>
        who.Role >= LeastRoleFor(action) || (IsJobAction(action) && owner is not null && IsOwner(who, owner));

    /// <summary>Whether <paramref name="who"/> owns what <paramref name="owner"/> names.</summary>
    public static bool IsOwner(Principal who, string owner) => who.Name is { } name && string.Equals(name, owner, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="who"/> may see a job of <paramref name="owner"/>'s in the job table.</summary>
    public static bool MaySee(Principal who, string owner, bool privateJobs) =>
        !privateJobs || who.Role >= GoqRole.Operator || IsOwner(who, owner);

    /// <summary>Null when allowed; else the refusal, saying what was refused and who may do it.</summary>
    public static string? Refusal(Principal who, GoqAction action, long? jobId = null, string? owner = null)
    {
        if (Allows(who, action, owner))
        {
            return null;
        }

        var what = Verb(action) + (jobId is { } id ? $" job {id}" + (owner is not null ? $", owned by {owner}" : "") : "");
        var mayDo = IsJobAction(action)
            ? "only its owner, an Operator or an Admin may"
            : LeastRoleFor(action) == GoqRole.Operator ? "only an Operator or an Admin may" : "only an Admin may";
        return $"access denied: {who.Name} ({who.Role}) may not {what}; {mayDo} (Get-GoqUser lists the roles; an Admin changes them with Set-GoqUser -Role)";
    }

    /// <summary>The action as the log and the refusal name it.</summary>
    public static string Verb(GoqAction action) => action switch
    {
        GoqAction.StopJob => "stop",
        GoqAction.RemoveJob => "remove",
        GoqAction.SetJob => "change",
        GoqAction.RestartJob => "restart",
        GoqAction.ReadOutput => "read the output of",
        GoqAction.StopWorkers => "stop or drain workers",
        GoqAction.SetQueue => "set a queue's limits",
        GoqAction.ManageUsers => "grant, change or revoke users",
        GoqAction.StopServer => "stop the server",
        _ => action.ToString(),
    };
}
