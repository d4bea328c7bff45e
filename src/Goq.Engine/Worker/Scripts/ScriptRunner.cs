using Goq.Timing;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Goq.Platform;

namespace Goq.Worker;

/// <summary>
/// One warm pwsh process that runs script-block jobs one after another, each in a fresh runspace (the runner side is
/// Goq.Runner, outside the engine). It talks to the worker over a socket pair given to it as descriptor 3; its own
/// stdout and stderr (what a job writes past PowerShell, e.g. [Console]::WriteLine) are read like a job's and belong
/// to the job running at the time. It leads a process group of its own, so killing it kills what its job started.
/// </summary>
internal sealed class ScriptRunner : IDisposable
{
    private static readonly TimeSpan HoldPoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MemoryCheckEvery = TimeSpan.FromMilliseconds(200);
    private long _memoryCheckedAt = long.MinValue / 2;
    private readonly SpawnedJobProcess _process;
    private readonly NetworkStream _channel;
    private readonly object _sendGate = new();
    private volatile Sink? _current;

    private ScriptRunner(SpawnedJobProcess process, NetworkStream channel)
    {
        _process = process;
        _channel = channel;
    }

    public int Pid => _process.Pid;

    public int JobsRun { get; private set; }

    /// <summary>Set once the runner cannot take another job (it died, was killed, or its channel broke).</summary>
    public bool Broken { get; private set; }

    public TimeSpan IdleSince { get; set; } = Instant.SteadyNow; // steady clock

    public Task<int> Exited => _process.Exited;

    /// <summary>Starts a runner and waits until it says it is ready.</summary>
    public static async Task<ScriptRunner> StartAsync(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string?>> environment,
        string workingDirectory, TimeSpan readyWithin)
    {
        var (ours, theirs) = SocketPair();
        ScriptRunner? runner = null;
        SpawnedJobProcess process;
        try
        {
            process = SpawnedJobProcess.Start(argv, environment, workingDirectory,
                line => runner?._current?.Emit(line),
                () => runner?._current?.Hold() ?? false, channelFd: theirs);
        }
        catch
        {
            LibC.close(ours);
            throw;
        }
        finally
        {
            LibC.close(theirs);
        }

        var socket = new Socket(new SafeSocketHandle(ours, ownsHandle: true));
        runner = new ScriptRunner(process, new NetworkStream(socket, ownsSocket: true));
        var startup = new System.Collections.Concurrent.ConcurrentQueue<string>(); // what it said before it was ready, for the error
        runner._current = new Sink(line => { startup.Enqueue(line.Text); while (startup.Count > 20) { startup.TryDequeue(out _); } }, () => false);
        using var ready = new CancellationTokenSource(readyWithin);
        try
        {
            var frame = await RunnerWire.ReadAsync(runner._channel, ready.Token).ConfigureAwait(false);
            if (frame is { Kind: RunnerFrame.Ready })
            {
                runner._current = null;
                return runner;
            }

            throw new InvalidDataException("no ready frame");
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidDataException or SocketException)
        {
            var what = ex is OperationCanceledException
                ? $"the PowerShell runner was not ready within {readyWithin.TotalSeconds:0} s"
                : await runner.DeathAsync("the PowerShell runner failed to start").ConfigureAwait(false);
            runner.Dispose();
            var said = string.Join(" | ", startup.Where(l => l.Trim().Length > 0).TakeLast(5));
            throw new JobStartException(said.Length > 0 ? $"{what}: {said}" : what);
        }
    }

    /// <summary>
    /// Runs one job. Lines go to <paramref name="emit"/> in order; while <paramref name="hold"/> is true the channel is not
    /// read, so the runner's writes wait (back-pressure). Cancelling, or the time limit, kills the runner's process tree.
    /// </summary>
    public async Task<JobOutcome> RunAsync(RunnerJob job, Action<OutputLine> emit, Func<bool> hold, CancellationToken cancel, int? timeoutSec,
        Func<string?>? whyCancelled = null)
    {
        JobsRun++;
        var startedAt = DateTimeOffset.UtcNow;
        _current = new Sink(emit, hold);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (timeoutSec is > 0 and var seconds)
        {
            limit.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var usage = RunnerUsage.Start(Pid);
        JobOutcome Outcome(JobState state, int? exitCode, string? reason) => new(state, exitCode, reason, Pid, startedAt, DateTimeOffset.UtcNow, usage?.Stop());

        try
        {
            Send(RunnerWire.Job(job));
            while (true)
            {
                while (hold())
                {
                    await Task.Delay(HoldPoll, limit.Token).ConfigureAwait(false);
                }

                var frame = await RunnerWire.ReadAsync(_channel, limit.Token).ConfigureAwait(false);
                switch (frame)
                {
                    case null:
                        Broken = true;
                        return await DiedAsync(startedAt).ConfigureAwait(false);
                    case { Kind: RunnerFrame.Line } line:
                        emit(RunnerWire.ReadLine(line.Payload));
                        break;
                    case { Kind: RunnerFrame.End } end:
                        var result = RunnerWire.ReadEnd(end.Payload);
                        return Outcome(result.State, result.ExitCode, result.Reason);
                    default:
                        throw new InvalidDataException($"an unexpected {frame.Value.Kind} frame");
                }
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Broken = true;
            _process.KillTree();
            await _process.Exited.ConfigureAwait(false);
            if (cancel.IsCancellationRequested)
            {
                emit(new OutputLine(OutputStream.Stderr, $"goq: {JobRunner.WhyCancelled(whyCancelled)}; its PowerShell runner was killed"));
                return Outcome(JobState.Cancelled, null, "cancelled");
            }

            var reason = $"timed out after {timeoutSec} s; its PowerShell runner was killed";
            emit(new OutputLine(OutputStream.Stderr, "goq: " + reason));
            return Outcome(JobState.Failed, null, reason);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or SocketException or ObjectDisposedException)
        {
            Broken = true;
            _process.KillTree();
            return await DiedAsync(startedAt).ConfigureAwait(false);
        }
        finally
        {
            _current = null;
            IdleSince = Instant.SteadyNow;
        }

        async Task<JobOutcome> DiedAsync(DateTimeOffset started)
        {
            // The runner ended in the middle of the job: [Environment]::Exit(n) is an exit like any other, a signal is a crash.
            await Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            if (!_process.Exited.IsCompleted)
            {
                _process.KillTree();
            }

            var code = await _process.Exited.ConfigureAwait(false);
            if (_process.Signal is { } signal)
            {
                var reason = $"its PowerShell runner (pid {Pid}) died of signal {signal} while running it";
                emit(new OutputLine(OutputStream.Stderr, "goq: " + reason));
                return new JobOutcome(JobState.Failed, code, reason, Pid, started, DateTimeOffset.UtcNow);
            }

            return code == 0
                ? new JobOutcome(JobState.Completed, 0, null, Pid, started, DateTimeOffset.UtcNow)
                : new JobOutcome(JobState.Failed, code, $"exit code {code} (the job ended its PowerShell process)", Pid, started, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>
    /// True when the runner's resident memory is above <paramref name="limit"/>. Read from /proc at most every
    /// <see cref="MemoryCheckEvery"/> (reading it after each of many short jobs was a noticeable share of a worker's
    /// work); a job that grows the runner past the limit is still caught after its own end when it ran that long.
    /// </summary>
    public bool OverMemory(long limit)
    {
        var now = Environment.TickCount64;
        if (now - _memoryCheckedAt < MemoryCheckEvery.TotalMilliseconds)
        {
            return false;
        }

        _memoryCheckedAt = now;
        return ResidentBytes() > limit;
    }

    /// <summary>The runner's resident memory, or 0 when it cannot be read.</summary>
    public long ResidentBytes()
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{Pid}/statm").Split(' ');
            return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Asks an idle runner to exit; it is killed if it has not within a few seconds.</summary>
    public void Quit()
    {
        try
        {
            Send(RunnerWire.Encode(RunnerFrame.Quit, []));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // Gone already.
        }

        _ = Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(5))).ContinueWith(_ => Dispose(), TaskScheduler.Default);
    }

    public void Dispose()
    {
        if (!_process.Exited.IsCompleted)
        {
            _process.KillTree();
        }

        _channel.Dispose();
    }

    private static unsafe (int Ours, int Theirs) SocketPair()
    {
        var fds = stackalloc int[2];
        return LibC.socketpair(LibC.AfUnix, LibC.SockStream | LibC.OCloexec, 0, fds) == 0
            ? (fds[0], fds[1])
            : throw new JobStartException($"cannot create the script runner's channel: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
    }

    private void Send(byte[] frame)
    {
        lock (_sendGate)
        {
            _channel.Write(frame);
        }
    }

    private async Task<string> DeathAsync(string what)
    {
        await Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        return _process.Exited.IsCompleted ? $"{what} (exit code {_process.Exited.Result})" : what;
    }

    private sealed record Sink(Action<OutputLine> Emit, Func<bool> Hold);
}
