using Goq.Timing;
namespace Goq.Worker;

/// <summary>
/// The worker's warm PowerShell runners: at most one per running script-block job, started on first need and kept
/// for the next job (a fresh pwsh per job costs half a second). A runner is retired after
/// <see cref="JobRunnerOptions.RunnerMaxJobs"/> jobs, above <see cref="JobRunnerOptions.RunnerMaxBytes"/> of memory,
/// after <see cref="JobRunnerOptions.RunnerIdleTimeout"/> unused, and whenever it died or was killed. Thread-safe.
/// </summary>
internal sealed class ScriptRunnerPool : IDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);
    private readonly JobRunnerOptions _options;
    private readonly IReadOnlyList<string> _command;
    private readonly Func<IEnumerable<KeyValuePair<string, string?>>> _environment;
    private readonly Stack<ScriptRunner> _idle = new();
    private readonly HashSet<ScriptRunner> _busy = [];
    private readonly Timer _reaper;
    private bool _disposed;

    public ScriptRunnerPool(JobRunnerOptions options, IReadOnlyList<string> command, Func<IEnumerable<KeyValuePair<string, string?>>> environment)
    {
        _options = options;
        _command = command;
        _environment = environment;
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, options.RunnerIdleTimeout.Ticks / 4));
        _reaper = new Timer(_ => RetireIdle(), null, every, every);
    }

    public async Task<JobOutcome> RunAsync(RunnerJob job, Action<int, DateTimeOffset> onStarted, Action<OutputLine> emit, Func<bool> hold,
        CancellationToken cancel, int? timeoutSec, Func<string?>? whyCancelled = null)
    {
        ScriptRunner runner;
        try
        {
            runner = Take() ?? await ScriptRunner.StartAsync(_command, RunnerEnvironment(), "/", ReadyWithin).WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return new JobOutcome(JobState.Cancelled, null, "cancelled", null, null, DateTimeOffset.UtcNow);
        }

        lock (_idle)
        {
            _busy.Add(runner);
        }

        onStarted(runner.Pid, DateTimeOffset.UtcNow);
        var outcome = await runner.RunAsync(job, emit, hold, cancel, timeoutSec, whyCancelled).ConfigureAwait(false);
        Return(runner);
        return outcome;
    }

    /// <summary>
    /// The worker's environment, plus runtime settings for the runner process itself (its jobs get their own
    /// environment). One processor: a runner runs one job at a time, and with more the runtime spins and splits the
    /// opening of each runspace across threads, which on a busy host cost more CPU than it saved (measured: 4.5 ms a job
    /// instead of 6). So a job sees [Environment]::ProcessorCount as 1, its slot's share of the host.
    /// No tiered compilation: a runner's code is mostly PowerShell's, compiled ahead of time (ReadyToRun), and with
    /// tiering on, the runtime spent its first thousands of jobs re-compiling that code in the background: a runner
    /// took about 5 ms of CPU per trivial job over its first 1,000 jobs, against 2.8 ms without tiering, which is
    /// also what a fully warmed runner with tiering costs. The price is paid once per runner: about 0.6 s more to
    /// start (its own code and PowerShell's dynamic code are compiled optimized at once).
    /// </summary>
    private IEnumerable<KeyValuePair<string, string?>> RunnerEnvironment() =>
        _environment().Where(e => e.Key is not ("DOTNET_PROCESSOR_COUNT" or "DOTNET_TieredPGO" or "DOTNET_TieredCompilation"))
            .Append(new("DOTNET_PROCESSOR_COUNT", "1"))
            .Append(new("DOTNET_TieredCompilation", "0"))
            .Append(new("POWERSHELL_TELEMETRY_OPTOUT", "1"));

    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            _reaper.Dispose();
            while (_idle.TryPop(out var runner))
            {
                runner.Quit();
            }

            foreach (var runner in _busy)
            {
                runner.Dispose();
            }
        }
    }

    private ScriptRunner? Take()
    {
        lock (_idle)
        {
            while (_idle.TryPop(out var runner))
            {
                if (!runner.Exited.IsCompleted)
                {
                    return runner;
                }

                runner.Dispose();
            }

            return null;
        }
    }

    private void Return(ScriptRunner runner)
    {
        // Checked after a job (its memory at most every 200 ms): a runner whose jobs leaked memory (modules, static
        // caches) is replaced, not grown.
        var retire = runner.Broken || runner.JobsRun >= _options.RunnerMaxJobs || runner.OverMemory(_options.RunnerMaxBytes);
        lock (_idle)
        {
            _busy.Remove(runner);
            if (!retire && !_disposed)
            {
                _idle.Push(runner);
                return;
            }
        }

        if (runner.Broken)
        {
            runner.Dispose();
        }
        else
        {
            runner.Quit();
        }
    }

    private void RetireIdle()
    {
        var now = Instant.SteadyNow;
        List<ScriptRunner> old;
        lock (_idle)
        {
            old = _idle.Where(r => now - r.IdleSince > _options.RunnerIdleTimeout).ToList();
            var keep = _idle.Except(old).Reverse().ToList();
            _idle.Clear();
            keep.ForEach(_idle.Push);
        }

        old.ForEach(r => r.Quit());
    }
}
