using System.Runtime.InteropServices;
using System.Text;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// A job started with posix_spawn (Linux): in a new session and process group of its own (POSIX_SPAWN_SETSID, so
/// no setsid(1) exec per job), every signal reset to its default (pwsh ignores SIGPIPE; jobs must not inherit that),
/// stdin from /dev/null, stdout and stderr on two pipes that the shared <see cref="JobIoLoop"/> reads along with a
/// pidfd that says when the main process exits. A command or program job goes through <see cref="JobShim"/> (a setsid(1)
/// and sh exec per job, about a millisecond), so the peak memory wait4 reports is the job's, not this process's.
/// </summary>
internal sealed unsafe class SpawnedJobProcess : IJobProcess
{
    // Continuations run where the end is seen (the I/O thread): finishing a job there costs no thread hop. Whoever
    // awaits these must only do short, non-blocking work before its next await (the worker enqueues the result).
    private readonly TaskCompletionSource<int> _exited = new();
    private Action<int>? _onExit; // told the exit code on the thread that reaped it, before anything else
    private readonly TaskCompletionSource _outputDone = new();
    private int _reaped;

    private SpawnedJobProcess(int pid) => Pid = pid;

    /// <summary>Test hook: waits for <paramref name="pid"/> as if this process had started it (ECHILD if it did not).</summary>
    internal static SpawnedJobProcess WaitFor(int pid)
    {
        var process = new SpawnedJobProcess(pid);
        process.Reap(blocking: true);
        return process;
    }

    public int Pid { get; }

    public Task<int> Exited => _exited.Task;

    public int? Signal { get; private set; }

    /// <summary>What the job's processes used, from wait4: set before <see cref="Exited"/> completes.</summary>
    public Protocol.JobUsage? Usage { get; private set; }

    public Task OutputDone => _outputDone.Task;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <param name="hold">While true, the job's pipes are not read (see <see cref="OutputBudget"/>).</param>
    /// <param name="channelFd">When not negative, given to the child as its descriptor 3 (a script runner's channel).</param>
    /// <param name="runAs">
    /// The command that drops to the job's owner (setpriv, see <see cref="JobOwners"/>), put before everything else: the
    /// shim then runs as the owner, and the folder is entered as the owner (this process starts the drop in /).
    /// </param>
    public static SpawnedJobProcess Start(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string?>> environment,
        string workingDirectory, Action<OutputLine> emit, Func<bool>? hold = null, int channelFd = -1, JobOutputFile? file = null,
        Action<int>? exited = null, IReadOnlyList<string>? runAs = null)
    {
        var strings = new List<nint>();
        byte* Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return (byte*)p;
        }

        var outPipe = stackalloc int[2];
        var errPipe = stackalloc int[2];
        var pidPipe = stackalloc int[2];
        outPipe[0] = outPipe[1] = errPipe[0] = errPipe[1] = pidPipe[0] = pidPipe[1] = -1;
        var program = argv[0];
        var shim = channelFd < 0 && JobShim.IsAvailable; // a script runner is .NET anyway: its peak is documented as the runner's
        if (shim)
        {
            if (!JobShim.IsExecFormat(program))
            {
                throw new JobStartException($"cannot start '{program}': {LibC.ErrorText(LibC.Enoexec)}");
            }

            argv = runAs is null ? JobShim.Wrap(argv) : JobShim.Wrap(argv, workingDirectory);
        }
        else if (runAs is not null)
        {
            argv = ["/bin/sh", "-c", "cd -- \"$0\" || exit 126; exec \"$@\"", workingDirectory, .. argv];
        }

        if (runAs is not null)
        {
            // Checkpoint (identity): nothing of the job runs before the drop; even its folder is entered after it.
            argv = [.. runAs, .. argv];
            workingDirectory = "/";
        }

        var devNull = -1;
        var actions = NativeMemory.AllocZeroed(LibC.OpaqueSize);
        var attr = NativeMemory.AllocZeroed(LibC.OpaqueSize);
        var sigs = NativeMemory.AllocZeroed(LibC.OpaqueSize);
        var env = environment.Where(e => e.Value is not null).ToList();
        var argvp = (byte**)NativeMemory.AllocZeroed((nuint)((argv.Count + 1) * sizeof(nint)));
        var envp = (byte**)NativeMemory.AllocZeroed((nuint)((env.Count + 1) * sizeof(nint)));
        try
        {
            if (LibC.pipe2(outPipe, LibC.OCloexec) != 0 || LibC.pipe2(errPipe, LibC.OCloexec) != 0)
            {
                throw new JobStartException($"cannot create pipes: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
            }

            if (shim && LibC.pipe2(pidPipe, LibC.OCloexec) != 0)
            {
                throw new JobStartException($"cannot create pipes: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
            }

            devNull = LibC.open(Utf8("/dev/null"), LibC.ORdonly | LibC.OCloexec, 0);
            for (var i = 0; i < argv.Count; i++)
            {
                argvp[i] = Utf8(argv[i]);
            }

            for (var i = 0; i < env.Count; i++)
            {
                envp[i] = Utf8($"{env[i].Key}={env[i].Value}");
            }

            LibC.posix_spawn_file_actions_init(actions);
            LibC.posix_spawn_file_actions_adddup2(actions, devNull, 0);
            LibC.posix_spawn_file_actions_adddup2(actions, outPipe[1], 1);
            LibC.posix_spawn_file_actions_adddup2(actions, errPipe[1], 2);
            if (channelFd >= 0)
            {
                LibC.posix_spawn_file_actions_adddup2(actions, channelFd, 3);
            }

            if (shim)
            {
                LibC.posix_spawn_file_actions_adddup2(actions, pidPipe[1], JobShim.PidFd);
            }
            LibC.posix_spawn_file_actions_addchdir_np(actions, Utf8(workingDirectory));
            LibC.posix_spawnattr_init(attr);
            LibC.posix_spawnattr_setflags(attr, LibC.PosixSpawnSetSid | LibC.PosixSpawnSetSigDef | LibC.PosixSpawnSetSigMask);
            LibC.sigemptyset(sigs);
            LibC.posix_spawnattr_setsigmask(attr, sigs);
            LibC.sigfillset(sigs);
            LibC.posix_spawnattr_setsigdefault(attr, sigs);

            int pid;
            if (!shim)
            {
                lock (JobShim.Gate) // never inside a shim's window: see StrayReaper.After
                {
                    pid = Spawn(argvp, actions, attr, envp, argv[0]);
                }
            }
            else
            {
                lock (JobShim.Gate)
                {
                    var before = StrayReaper.Before();
                    JobShim.AdoptOrphans(true);
                    pid = -1;
                    try
                    {
                        pid = JobShim.JobPid(Spawn(argvp, actions, attr, envp, program), pidPipe[0], ref pidPipe[1], program);
                    }
                    finally
                    {
                        JobShim.AdoptOrphans(false);
                        StrayReaper.After(before, pid);
                    }
                }
            }

            LibC.close(outPipe[1]);
            LibC.close(errPipe[1]);
            outPipe[1] = errPipe[1] = -1;
            var process = new SpawnedJobProcess(pid) { _onExit = exited };
            process.StartReader(outPipe[0], errPipe[0], emit, hold, file);
            outPipe[0] = errPipe[0] = -1; // the reader owns them now
            return process;
        }
        finally
        {
            foreach (var fd in new[] { outPipe[0], outPipe[1], errPipe[0], errPipe[1], pidPipe[0], pidPipe[1], devNull })
            {
                if (fd >= 0)
                {
                    LibC.close(fd);
                }
            }

            LibC.posix_spawn_file_actions_destroy(actions);
            LibC.posix_spawnattr_destroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigs);
            NativeMemory.Free(argvp);
            NativeMemory.Free(envp);
            strings.ForEach(Marshal.FreeCoTaskMem);
        }
    }

    private static int Spawn(byte** argvp, void* actions, void* attr, byte** envp, string program)
    {
        int pid;
        var error = LibC.posix_spawn(&pid, argvp[0], actions, attr, argvp, envp);
        return error == 0 ? pid : throw new JobStartException($"cannot start '{program}': {LibC.ErrorText(error)}");
    }

    public void StopReading() => JobIoLoop.Shared.Abandon(_outputDone);

    public void KillTree()
    {
        // The job leads its own process group: this reaches every process in it, re-parented or not.
        _ = LibC.kill(-Pid, LibC.SigKill);
        if (!_exited.Task.IsCompleted)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(Pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }

    public void Dispose()
    {
    }

    private void StartReader(int stdoutFd, int stderrFd, Action<OutputLine> emit, Func<bool>? hold, JobOutputFile? file)
    {
        void ReapOnAThread() =>
            Task.Factory.StartNew(() => Reap(blocking: true), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var pidFd = (int)LibC.syscall(LibC.SysPidfdOpen, Pid, 0);
        if (pidFd < 0)
        {
            // No pidfd (old kernel, seccomp): a thread waits for the exit instead.
            ReapOnAThread();
        }

        JobIoLoop.Shared.Add(stdoutFd, stderrFd, pidFd, ownsFds: true, emit,
            onExit: () => Reap(blocking: false),
            _outputDone,
            onFailed: _ => ReapOnAThread(),
            hold,
            file);
    }

    private void Reap(bool blocking)
    {
        if (Volatile.Read(ref _reaped) != 0)
        {
            return;
        }

        int status;
        int result;
        LibC.Rusage usage = default;
        do
        {
            // Guarantee point (accounting): wait4 reports the child's rusage, which covers every descendant it waited for.
            result = Environment.Is64BitProcess
                ? LibC.wait4(Pid, &status, blocking ? 0 : LibC.Wnohang, &usage)
                : LibC.waitpid(Pid, &status, blocking ? 0 : LibC.Wnohang);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == LibC.Eintr);

        if (result < 0 && Marshal.GetLastPInvokeError() is var error && error == LibC.Echild)
        {
            // Not our child (nothing else waits for it): without this the job would never end.
            if (Interlocked.Exchange(ref _reaped, 1) == 0)
            {
                _exited.TrySetException(new JobStartException(
                    $"cannot wait for the job (pid {Pid}): {LibC.ErrorText(error)}; it is not a child of this worker, so its end and exit code are unknown"));
            }

            return;
        }

        if (result != Pid || Interlocked.Exchange(ref _reaped, 1) != 0)
        {
            return;
        }

        StrayReaper.Sweep();

        if (Environment.Is64BitProcess)
        {
            Usage = new Protocol.JobUsage(usage.UserSec * 1_000_000 + usage.UserMicros, usage.SystemSec * 1_000_000 + usage.SystemMicros,
                usage.MaxRssKiB * 1024);
        }

        var signal = status & 0x7f;
        var code = signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        Signal = signal == 0 ? null : signal;
        try
        {
            _onExit?.Invoke(code); // Guarantee point: the exit is recorded before anything else can delay it
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // the ledger says why it could not write; the end is still reported the usual way
        }

        _exited.TrySetResult(code);
    }
}
