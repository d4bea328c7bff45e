using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// How a worker started by root in a multi-user cluster runs each job as its owner: the owner's account on this host
/// (uid, gid and groups from its user database), with HOME, USER, LOGNAME and SHELL from its entry, through
/// <c>setpriv --reuid --regid --groups --no-new-privs</c> (util-linux), which leaves the job no way back to root; the
/// groups are the account's (getgrouplist), looked up once a minute rather than by setpriv at every job. A job whose
/// folder the owner may not enter fails (checked with the owner's rights just before the start). A job of root, or of a
/// system account (uid below 1000), is refused unless the worker was told to allow that user (-AllowUser).
/// </summary>
public sealed class JobOwners
{
    /// <summary>The first uid of an ordinary account (Debian's and Red Hat's FIRST_UID).</summary>
    public const int FirstUserUid = 1000;

    private static readonly TimeSpan GroupsFor = TimeSpan.FromMinutes(1);
    private readonly HashSet<string> _allowed;
    private readonly Dictionary<int, (string Groups, long Until)> _groups = [];

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
    /// Variables that act on the dynamic loader, the C library or the locale (glibc's list for set-user-ID programs, and
    /// LC_*, LANG, LANGUAGE, whose values may name files to load). setpriv starts as root without the loader's secure
    /// mode: these never reach it, and are given back to the job after the drop.
    /// </summary>
    private static readonly string[] LoaderVariables =
    [
        "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
        "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR", "TZ", "LANG", "LANGUAGE",
    ];

    private static bool ActsOnTheLoader(string name) =>
        name.StartsWith("LD_", StringComparison.Ordinal) || name.StartsWith("LC_", StringComparison.Ordinal) || LoaderVariables.Contains(name, StringComparer.Ordinal);

    /// <summary>
    /// The command that drops to <paramref name="account"/> for good, to put before the job (and its shim): setpriv, then,
    /// when the job has any variable that acts on the loader, env(1) giving those back as the owner. Checkpoint
    /// (identity): such variables are taken out of <paramref name="environment"/>, which setpriv starts with as root; the
    /// shell and the job's shim run only after the drop, so nothing else in the environment (a bash function, say) is
    /// read by anything that runs as root. Most jobs have none of these and pay no extra program.
    /// </summary>
    public List<string> Drop(UserAccount account, IDictionary<string, string?> environment)
    {
        var drop = Setpriv(account);
        var moved = environment.Where(e => e.Value is not null && ActsOnTheLoader(e.Key)).ToList();
        foreach (var (name, _) in moved)
        {
            environment.Remove(name);
        }

        // env(1) takes any word with '=' for a variable until the first that has none: the shim (or the job) comes next.
        return moved.Count == 0 ? drop : [.. drop, EnvPath, .. moved.Select(e => $"{e.Key}={e.Value}")];
    }

    /// <summary><paramref name="argv"/> run as <paramref name="account"/> (a script runner: it enters no job folder and has no shim).</summary>
    public List<string> Wrap(UserAccount account, IReadOnlyList<string> argv) => [.. Setpriv(account), .. argv];

    /// <summary>setpriv's drop to the account, for good: its uid, gid and groups, and no way to gain privileges.</summary>
    private List<string> Setpriv(UserAccount account) =>
        [SetprivPath!, $"--reuid={account.Uid}", $"--regid={account.Gid}", $"--groups={GroupsOf(account)}", "--no-new-privs", "--"];

    private static string EnvPath => File.Exists("/usr/bin/env") ? "/usr/bin/env" : "/bin/env";

    /// <summary>Null when <paramref name="account"/> may enter <paramref name="folder"/> (search it); else why not.</summary>
    public static string? CannotEnter(UserAccount account, string folder) =>
        FileCredentials.As(account, () => NoFollow.CannotSearch(folder)) is { } why
            ? $"{account.Name} may not enter the working directory '{folder}' ({why})"
            : null;

    private string GroupsOf(UserAccount account)
    {
        var now = Environment.TickCount64;
        lock (_groups)
        {
            if (_groups.TryGetValue(account.Uid, out var known) && known.Until > now)
            {
                return known.Groups;
            }

            var groups = string.Join(',', FileCredentials.GroupsOf(account));
            _groups[account.Uid] = (groups, now + (long)GroupsFor.TotalMilliseconds);
            return groups;
        }
    }
}
