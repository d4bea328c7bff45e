using System.Runtime.InteropServices;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// Starts a command or program job so that its peak memory (wait4's ru_maxrss) is its own. A process started from
/// .NET inherits the runtime's high-water mark: at exec the kernel folds the RSS peak of the memory it leaves into the
/// process's <c>maxrss</c>, and with posix_spawn (vfork: the parent's memory) or fork (a copy of it) that is the worker's
/// own 100-200 MB, so even <c>true</c> reported about 200 MB. Here posix_spawn starts a small shim instead:
/// <c>setsid -f /bin/sh -c 'echo $$ &gt;&amp;4; exec "$@" 4&gt;&amp;-' goq-job argv...</c>. setsid forks a child (a copy of
/// setsid's own megabyte), which leads a new session and process group, writes its pid on descriptor 4 and execs the
/// job; setsid itself exits at once. While the shim lives, this process is a child subreaper (PR_SET_CHILD_SUBREAPER), so
/// the job, orphaned by the shim's exit, becomes our child: the caller waits for it with wait4 and gets its own rusage.
/// The job keeps the same pid for its life, its own session and process group, every signal at its default, stdin from
/// /dev/null and its output pipes. Without setsid or /bin/sh the job is spawned directly (its peak then includes ours).
/// </summary>
internal static unsafe class JobShim
{
    private const int PrSetChildSubreaper = 36;
    private const string Script = "echo $$ >&4; exec \"$@\" 4>&-";

    /// <summary>The fd the shim's job writes its pid on.</summary>
    public const int PidFd = 4;

    /// <summary>Held from the shim's spawn until it is reaped: one shim at a time, so the flag is on only while one may exit.</summary>
    public static readonly Lock Gate = new();

    private static readonly string? Setsid = OperatingSystem.IsLinux() && File.Exists("/bin/sh")
        ? new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
        : null;

    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <summary>
    /// False without setsid or /bin/sh, with GOQ_JOB_SHIM=0, or when the probe failed: prctl refused
    /// PR_SET_CHILD_SUBREAPER (some sandboxes), or a trial <c>setsid -f</c> did not run (BusyBox's setsid has no -f).
    /// The jobs are then spawned directly; <see cref="UnavailableReason"/> says why, written once to stderr.
    /// </summary>
    public static bool IsAvailable => Environment.GetEnvironmentVariable("GOQ_JOB_SHIM") != "0" && Unavailable.Value is null;

    /// <summary>Why the shim is not used (null when it is, or when GOQ_JOB_SHIM=0 alone turns it off).</summary>
    public static string? UnavailableReason => Unavailable.Value;

    private static string? Probe()
    {
        var reason = Setsid is null ? "no setsid or /bin/sh"
            : prctl(PrSetChildSubreaper, 1, 0, 0, 0) != 0 ? $"prctl(PR_SET_CHILD_SUBREAPER) failed: {LibC.ErrorText(Marshal.GetLastPInvokeError())}"
            : null;
        if (Setsid is not null)
        {
            _ = prctl(PrSetChildSubreaper, 0, 0, 0, 0);
        }

        reason ??= TrySetsid();
        if (reason is not null)
        {
            Console.Error.WriteLine($"goq: job shim not used ({reason}); command and program jobs are spawned directly and their peak memory includes the worker's");
        }

        return reason;
    }

    private static string? TrySetsid()
    {
        try
        {
            var info = new System.Diagnostics.ProcessStartInfo(Setsid!) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-f", "/bin/sh", "-c", "exit 0" })
            {
                info.ArgumentList.Add(arg);
            }

            using var trial = System.Diagnostics.Process.Start(info)!;
            var error = trial.StandardError.ReadToEnd();
            _ = trial.StandardOutput.ReadToEnd();
            return trial.WaitForExit(10_000) && trial.ExitCode == 0 ? null : $"'{Setsid} -f' failed: {error.Trim()}";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"'{Setsid} -f' failed: {ex.Message}";
        }
    }

    private static readonly int OurMachine = ElfMachine("/proc/self/exe") ?? -1;

    // ELF machines a 64-bit kernel also runs (EM_386 on EM_X86_64, EM_ARM on EM_AARCH64).
    private static readonly Dictionary<int, int> CompatibleMachine = new() { [3] = 62, [40] = 183 };

    // A host with formats registered in binfmt_misc (qemu-user, wine, ...) execs more than #! and ELF: what it runs
    // is then for exec to decide.
    private static readonly bool ExtraFormats = HasBinfmtEntries();

    /// <summary>
    /// Whether the kernel would refuse to exec <paramref name="path"/> with ENOEXEC: the shim's sh would instead run
    /// such a file as a shell script (and a direct spawn fails "Exec format error"), so it is checked before the shim
    /// starts. A file is accepted when it starts with <c>#!</c>, or is ELF for this machine's architecture (or when it
    /// cannot be read here: exec then reports that); a 32-bit ELF that the 64-bit kernel runs is accepted, and so is everything
    /// on a host with formats registered in binfmt_misc.
    /// </summary>
    public static bool IsExecFormat(string path)
    {
        Span<byte> head = stackalloc byte[20];
        int length;
        try
        {
            using var file = File.OpenHandle(path);
            length = RandomAccess.Read(file, head, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }

        return ExtraFormats
            || (length >= 2 && head[0] == (byte)'#' && head[1] == (byte)'!')
            || (length >= 20 && head[..4].SequenceEqual("\u007fELF"u8) && RunsHere(MachineOf(head)));
    }

    private static bool RunsHere(int machine) =>
        OurMachine < 0 || machine == OurMachine || (CompatibleMachine.TryGetValue(machine, out var host) && host == OurMachine);

    private static bool HasBinfmtEntries()
    {
        try
        {
            return Directory.EnumerateFiles("/proc/sys/fs/binfmt_misc").Any(f => Path.GetFileName(f) is not ("register" or "status"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int? ElfMachine(string path)
    {
        try
        {
            Span<byte> head = stackalloc byte[20];
            using var file = File.OpenHandle(path);
            return RandomAccess.Read(file, head, 0) == 20 && head[..4].SequenceEqual("\u007fELF"u8) ? MachineOf(head) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // e_machine, 2 bytes at offset 18, in the byte order e_ident[5] names (1: little-endian).
    private static int MachineOf(ReadOnlySpan<byte> head) => head[5] == 1 ? head[18] | (head[19] << 8) : (head[18] << 8) | head[19];

    /// <summary>The shim's argv for a job's argv.</summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<string> argv) => [Setsid!, "-f", "/bin/sh", "-c", Script, "goq-job", .. argv];

    /// <summary>
    /// The same, entering <paramref name="directory"/> first: for a job started as its owner, whose folder is entered
    /// with the owner's rights, after the drop (a folder swapped for a link after it was checked gives them nothing).
    /// </summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<string> argv, string directory) =>
        [Setsid!, "-f", "/bin/sh", "-c", "cd -- \"$0\" || exit 126; " + Script, directory, .. argv];

    /// <summary>Makes this process a child subreaper (or no longer one); called with <see cref="Gate"/> held.</summary>
    /// <exception cref="JobStartException">prctl refused to turn it on (the probe saw it work: this is rare).</exception>
    public static void AdoptOrphans(bool on)
    {
        if (prctl(PrSetChildSubreaper, on ? 1u : 0u, 0, 0, 0) != 0 && on)
        {
            throw new JobStartException($"cannot start the job: prctl(PR_SET_CHILD_SUBREAPER) failed: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>
    /// The job's pid, once the shim <paramref name="shim"/> has written it and been reaped (from then on the job is a
    /// child of this process). <paramref name="pidWrite"/>, the write end the shim got as fd 4, is closed here first.
    /// </summary>
    public static int JobPid(int shim, int pidRead, ref int pidWrite, string program)
    {
        LibC.close(pidWrite);
        pidWrite = -1;
        var pid = ReadPid(pidRead);
        var status = ReapShim(shim); // Guarantee point: the shim is gone before the subreaper flag goes off, so its child is ours
        return pid > 0
            ? pid
            : throw new JobStartException($"cannot start '{program}': the job shim (setsid) ended with status {status} before starting it");
    }

    private static int ReadPid(int fd)
    {
        var buffer = stackalloc byte[32];
        var length = 0;
        while (length < 32)
        {
            var n = LibC.read(fd, buffer + length, 32 - length);
            if (n < 0 && Marshal.GetLastPInvokeError() == LibC.Eintr)
            {
                continue;
            }

            if (n <= 0)
            {
                break;
            }

            length += (int)n;
            if (buffer[length - 1] == (byte)'\n')
            {
                break;
            }
        }

        return int.TryParse(new ReadOnlySpan<byte>(buffer, length).Trim((byte)'\n'), out var pid) ? pid : -1;
    }

    private static int ReapShim(int shim)
    {
        int status;
        int result;
        do
        {
            result = LibC.waitpid(shim, &status, 0);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == LibC.Eintr);

        return result == shim ? status : -1;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
