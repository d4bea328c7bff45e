using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// One thread that reads the stdout and stderr pipes of every running job, and watches their pidfds, with poll(2).
/// A thread per job would cost a thread start for every job, which for short jobs is a large part of the worker's
/// work. Within a job lines are handed on in the order they were read: when both of its pipes turn readable in the
/// same instant stderr is taken first (a program that writes to both in quick succession usually reports the error
/// before the result). Linux only (pipe2, pidfd).
/// </summary>
internal sealed unsafe class JobIoLoop
{
    private const short Readable = LibC.PollIn | LibC.PollErr | LibC.PollHup | LibC.PollNval;

    private static readonly Lazy<JobIoLoop> SharedLoop = new(() => new JobIoLoop());

    private readonly ConcurrentQueue<Registration> _incoming = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _abandoned = new();
    private readonly int _wakeRead;
    private readonly int _wakeWrite;
    private int _wakePending;

    private JobIoLoop()
    {
        var fds = stackalloc int[2];
        if (LibC.pipe2(fds, LibC.OCloexec) != 0)
        {
            throw new IOException($"cannot create the job I/O wake pipe: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        _wakeRead = fds[0];
        _wakeWrite = fds[1];
        new Thread(Run) { IsBackground = true, Name = "goq-job-io" }.Start();
    }

    public static JobIoLoop Shared => SharedLoop.Value;

    /// <summary>
    /// Reads the two pipes until both reach end of file and, when <paramref name="pidFd"/> is a pidfd (else -1), until
    /// it says the process exited (then <paramref name="onExit"/> runs on the loop thread). <paramref name="outputDone"/>
    /// completes at the end of the output, which may come before or after the exit. <paramref name="onFailed"/> runs if
    /// reading fails. With <paramref name="ownsFds"/> the loop closes the three descriptors when it is done with them.
    /// </summary>
    /// <param name="hold">While it returns true the pipes are not read (back-pressure: see <see cref="OutputBudget"/>); the exit
    /// is still watched. Whoever makes it false again must call <see cref="Wake"/>.</param>
    /// <param name="file">When the worker writes the job's output file itself: the pipes' bytes go there.</param>
    public void Add(int stdoutFd, int stderrFd, int pidFd, bool ownsFds, Action<OutputLine> emit,
        Action onExit, TaskCompletionSource outputDone, Action<Exception> onFailed, Func<bool>? hold = null, JobOutputFile? file = null)
    {
        _incoming.Enqueue(new Registration(
            new PipeLineBuffer(OutputStream.Stderr, stderrFd, file),
            new PipeLineBuffer(OutputStream.Stdout, stdoutFd, file),
            pidFd, ownsFds, emit, onExit, outputDone, onFailed, hold));
        Wake();
    }

    /// <summary>
    /// Stops reading the job whose output completes <paramref name="outputDone"/>: what each pipe left without a newline
    /// is handed on as at end of file, its descriptors are closed, and <paramref name="outputDone"/> completes. For a
    /// job whose main process ended while something out of its reach still holds its pipes.
    /// </summary>
    public void Abandon(TaskCompletionSource outputDone)
    {
        _abandoned.Enqueue(outputDone);
        Wake();
    }

    /// <summary>Makes the loop look again at what it waits for (a new job, or a job's output no longer held).</summary>
    public void Wake()
    {
        // At most one wake byte is in the pipe at a time, so a write never blocks.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            byte one = 1;
            _ = LibC.write(_wakeWrite, &one, 1);
        }
    }

    private void Run()
    {
        var buffer = new byte[64 * 1024];
        var active = new List<Registration>();
        var fds = new LibC.PollFd[16];
        var owners = new (Registration Job, int Which)[16];
        while (true)
        {
            while (_incoming.TryDequeue(out var added))
            {
                active.Add(added);
            }

            while (_abandoned.TryDequeue(out var abandoned))
            {
                if (active.Find(job => job.OutputDone == abandoned) is { } job)
                {
                    job.Abandon();
                }
                else
                {
                    abandoned.TrySetResult(); // already done, or never read
                }
            }

            active.RemoveAll(job => job.Finished);

            if (fds.Length < 1 + (3 * active.Count))
            {
                fds = new LibC.PollFd[2 * (1 + (3 * active.Count))];
                owners = new (Registration, int)[fds.Length];
            }

            var count = 0;
            fds[count++] = new LibC.PollFd { Fd = _wakeRead, Events = LibC.PollIn };
            foreach (var job in active)
            {
                // stderr before stdout before the exit: the order in which simultaneous events are handled. A job
                // whose output is held is not read: its pipe fills and its writes wait.
                var held = job.Hold?.Invoke() ?? false;
                if (job.Stderr.Open && !held)
                {
                    owners[count] = (job, 0);
                    fds[count++] = new LibC.PollFd { Fd = job.Stderr.Fd, Events = LibC.PollIn };
                }

                if (job.Stdout.Open && !held)
                {
                    owners[count] = (job, 1);
                    fds[count++] = new LibC.PollFd { Fd = job.Stdout.Fd, Events = LibC.PollIn };
                }

                if (job.WatchExit)
                {
                    owners[count] = (job, 2);
                    fds[count++] = new LibC.PollFd { Fd = job.PidFd, Events = LibC.PollIn };
                }
            }

            int ready;
            fixed (LibC.PollFd* p = fds)
            {
                ready = LibC.poll(p, (nuint)count, -1);
            }

            if (ready < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.Eintr)
                {
                    // Nothing is known to cause this; failing the jobs beats spinning on it.
                    FailAll(active, new IOException($"poll failed: {LibC.ErrorText(errno)}"));
                }

                continue;
            }

            if ((fds[0].Revents & Readable) != 0)
            {
                byte drained;
                _ = LibC.read(_wakeRead, &drained, 1);
                Volatile.Write(ref _wakePending, 0); // before the queue is drained again at the top of the loop
            }

            for (var k = 1; k < count; k++)
            {
                if ((fds[k].Revents & Readable) != 0)
                {
                    Handle(owners[k].Job, owners[k].Which, buffer);
                }
            }

            active.RemoveAll(job => job.Finished);
        }
    }

    private static void Handle(Registration job, int which, byte[] buffer)
    {
        if (job.Finished)
        {
            return;
        }

        try
        {
            switch (which)
            {
                case 0:
                    job.Stderr.ReadOnce(buffer, job.Emit);
                    break;
                case 1:
                    job.Stdout.ReadOnce(buffer, job.Emit);
                    break;
                default:
                    job.WatchExit = false;
                    job.OnExit();
                    break;
            }

            if (!job.Stderr.Open && !job.Stdout.Open)
            {
                job.OutputDone.TrySetResult();
                if (!job.WatchExit)
                {
                    job.Close();
                }
            }
        }
        catch (Exception ex)
        {
            job.Fail(ex);
        }
    }

    private static void FailAll(List<Registration> active, Exception error)
    {
        foreach (var job in active)
        {
            job.Fail(error);
        }

        active.Clear();
    }

    private sealed class Registration(PipeLineBuffer stderr, PipeLineBuffer stdout, int pidFd, bool ownsFds,
        Action<OutputLine> emit, Action onExit, TaskCompletionSource outputDone, Action<Exception> onFailed, Func<bool>? hold)
    {
        public Func<bool>? Hold { get; } = hold;

        public PipeLineBuffer Stderr { get; } = stderr;

        public PipeLineBuffer Stdout { get; } = stdout;

        public int PidFd { get; } = pidFd;

        public bool WatchExit { get; set; } = pidFd >= 0;

        public bool Finished { get; private set; }

        public Action<OutputLine> Emit { get; } = emit;

        public Action OnExit { get; } = onExit;

        public TaskCompletionSource OutputDone { get; } = outputDone;

        /// <summary>Stops reading: the partial lines are handed on, the descriptors closed, the output done.</summary>
        public void Abandon()
        {
            try
            {
                Stderr.Finish(Emit);
                Stdout.Finish(Emit);
            }
            finally
            {
                WatchExit = false;
                Close();
                OutputDone.TrySetResult();
            }
        }

        /// <summary>Reading failed: stop watching, and let the job's owner reap it another way.</summary>
        public void Fail(Exception error)
        {
            Close();
            OutputDone.TrySetException(error);
            onFailed(error);
        }

        public void Close()
        {
            if (Finished)
            {
                return;
            }

            Finished = true;
            if (ownsFds)
            {
                foreach (var fd in new[] { Stdout.Fd, Stderr.Fd, PidFd })
                {
                    if (fd >= 0)
                    {
                        LibC.close(fd);
                    }
                }
            }
        }
    }
}
