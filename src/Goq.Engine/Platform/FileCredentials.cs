using System.Runtime.InteropServices;
using System.Text;

namespace Goq.Platform;

/// <summary>
/// Makes files as a job's owner from a process running as root: for the length of one synchronous call, this thread's
/// file-system identity (Linux's fsuid and fsgid, and its supplementary groups) is the owner's, so the kernel checks
/// every folder and file the call touches with the owner's rights, and what it creates is the owner's. Other threads
/// keep root's identity (the raw system calls change only the calling thread; glibc's wrappers of setgroups would change
/// them all). A process that is not root, or a host that is not Linux, runs the call as it is.
/// </summary>
public static unsafe class FileCredentials
{
    /// <summary>True where this process can act as another user (root on Linux).</summary>
    public static bool CanSwitch => OperatingSystem.IsLinux() && UserAccounts.EffectiveUid == 0
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Runs <paramref name="action"/> with <paramref name="account"/>'s file rights (null, or no way to switch: as this process).</summary>
    public static T As<T>(UserAccount? account, Func<T> action)
    {
        if (account is null || !CanSwitch || account.Uid == 0)
        {
            return action();
        }

        var (setgroups, setfsuid, setfsgid, getgroups) = Numbers;
        var acting = LibC.syscall(setfsuid, -1, 0); // asking with -1 changes nothing and returns the current one
        if (acting == account.Uid)
        {
            return action(); // a call within one already made as this account: it stays so (and the outer one restores)
        }

        if (acting != 0)
        {
            throw new InvalidOperationException($"this thread acts as uid {acting} already; it cannot act as {account.Name} within that");
        }

        var groups = GroupsOf(account);
        var own = new uint[1024];
        long ownCount;
        fixed (uint* o = own)
        {
            ownCount = LibC.syscall(getgroups, own.Length, (long)o); // this thread's, to put back
        }

        if (ownCount < 0)
        {
            throw new IOException($"cannot read this thread's groups: {LibC.ErrorText(Marshal.GetLastWin32Error())}");
        }

        fixed (uint* g = groups)
        {
            if (LibC.syscall(setgroups, groups.Length, (long)g) != 0)
            {
                throw new IOException($"cannot take the groups of {account.Name}: {LibC.ErrorText(Marshal.GetLastWin32Error())}");
            }
        }

        LibC.syscall(setfsgid, account.Gid, 0);
        LibC.syscall(setfsuid, account.Uid, 0);
        try
        {
            if (LibC.syscall(setfsuid, -1, 0) != account.Uid) // asking with -1 returns the current one
            {
                throw new IOException($"cannot act as {account.Name} (uid {account.Uid}) to write its files");
            }

            return action();
        }
        finally
        {
            LibC.syscall(setfsuid, 0, 0);
            LibC.syscall(setfsgid, 0, 0);
            long back;
            fixed (uint* o = own)
            {
                back = LibC.syscall(setgroups, ownCount, (long)o);
            }

            if (LibC.syscall(setfsuid, -1, 0) != 0 || back != 0)
            {
                // Guarantee point: a thread that could not become root's again must not go on as someone else.
                Environment.FailFast("goq: could not restore the file-system identity of a thread after acting as " + account.Name);
            }
        }
    }

    /// <inheritdoc cref="As{T}"/>
    public static void As(UserAccount? account, Action action) => As(account, () =>
    {
        action();
        return true;
    });

    /// <summary>The account's groups: its primary group and every group that lists it (getgrouplist).</summary>
    public static uint[] GroupsOf(UserAccount account)
    {
        var name = Encoding.UTF8.GetBytes(account.Name + "\0");
        var count = 64;
        while (true)
        {
            var groups = new uint[count];
            var n = count;
            fixed (byte* p = name)
            fixed (uint* g = groups)
            {
                if (getgrouplist(p, (uint)account.Gid, g, &n) >= 0)
                {
                    return groups[..n];
                }
            }

            if (n <= count || count > 65536)
            {
                return [(uint)account.Gid];
            }

            count = n;
        }
    }

    // setgroups, setfsuid, setfsgid and getgroups: x86-64's numbers, else arm64's (the generic table).
    private static (long SetGroups, long SetFsUid, long SetFsGid, long GetGroups) Numbers =>
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? (116, 122, 123, 115) : (159, 151, 152, 158);

    [DllImport("libc", SetLastError = true)]
    private static extern int getgrouplist(byte* user, uint group, uint* groups, int* ngroups);
}
