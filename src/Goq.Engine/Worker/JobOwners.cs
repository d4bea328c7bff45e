using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// How a worker started by root in a multi-user cluster runs each job as its owner: the owner's account on this host
/// (uid, gid and groups from its user database), with HOME, USER, LOGNAME and SHELL from its entry, through
/// <c>setpriv --reuid --regid --init-groups --no-new-privs</c> (util-linux), which leaves the job no way back to root.
/// The job's folder is entered as the owner, so a folder the owner may not enter fails the job. A job of root, or of a
/// system account (uid below 1000), is refused unless the worker was told to allow that user (-AllowUser).
/// </summary>
public sealed class JobOwners
{
    /// <summary>The first uid of an ordinary account (Debian's and Red Hat's FIRST_UID).</summary>
    public const int FirstUserUid = 1000;

    private readonly HashSet<string> _allowed;

    public JobOwners(IEnumerable<string>? allowed = null, string? setprivPath = null)
    {
        _allowed = new HashSet<string>(allowed ?? [], StringComparer.Ordinal);
        SetprivPath = setprivPath ?? new[] { "/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv" }.FirstOrDefault(File.Exists);
    }

    /// <summary>Where setpriv is; null when this host has none (then no job runs: each fails saying so).</summary>
    public string? SetprivPath { get; }

    /// <summary>The users allowed although they are root or system accounts.</summary>
    public IReadOnlyCollection<string> Allowed => _allowed;

    /// <summary>The account a job of <paramref name="owner"/> runs as here, or null with the reason it may not run.</summary>
    public UserAccount? Resolve(string owner, out string? refusal)
    {
        refusal = null;
        if (string.IsNullOrEmpty(owner))
        {
            refusal = "the job has no owner to run as (it was submitted before the cluster was multi-user)";
            return null;
        }

        if (SetprivPath is null)
        {
            refusal = $"this host ({Environment.MachineName}) has no setpriv (util-linux) to run jobs as their owners";
            return null;
        }

        if (UserAccounts.Find(owner) is not { } account)
        {
            refusal = $"the job's owner '{owner}' has no account on {Environment.MachineName}";
            return null;
        }

        if ((account.Uid == 0 || account.Uid < FirstUserUid) && !_allowed.Contains(account.Name))
        {
            refusal = $"this worker does not run jobs as {account.Name} (uid {account.Uid}): root and system accounts run jobs only where the worker allows them (Start-GoqWorker -AllowUser {account.Name})";
            return null;
        }

        return account;
    }

    /// <summary>The owner's own variables, over the worker's.</summary>
    public static void ApplyEnvironment(IDictionary<string, string?> environment, UserAccount account)
    {
        environment["HOME"] = account.Home;
        environment["USER"] = account.Name;
        environment["LOGNAME"] = account.Name;
        environment["SHELL"] = account.Shell;
    }

    /// <summary>
    /// <paramref name="argv"/> run as <paramref name="account"/>, in <paramref name="workingDirectory"/> entered as them:
    /// setpriv drops to the account for good, then a shell enters the folder and replaces itself with the job.
    /// </summary>
    public List<string> Wrap(UserAccount account, string workingDirectory, IReadOnlyList<string> argv) =>
    [
        SetprivPath!, $"--reuid={account.Uid}", $"--regid={account.Gid}", "--init-groups", "--no-new-privs", "--",
        "/bin/sh", "-c", "cd -- \"$0\" || exit 126; exec \"$@\"", workingDirectory, .. argv,
    ];
}
