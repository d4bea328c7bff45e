using Goq.Timing;
namespace Goq.Worker;

/// <summary>
/// The worker's warm PowerShell runners: at most one per running script-block job, started on first need and kept
/// for the next job (a fresh pwsh per job costs half a second). A runner is retired after
/// <see cref="JobRunnerOptions.RunnerMaxJobs"/> jobs, above <see cref="JobRunnerOptions.RunnerMaxBytes"/> of memory,
/// after <see cref="JobRunnerOptions.RunnerIdleTimeout"/> unused, and whenever it died or was killed. In a multi-user
/// cluster a runner runs as one job owner for its whole life and is only ever taken again for that owner's jobs: a
/// runner is never reused across users. Thread-safe.
/// </summary>
internal sealed class ScriptRunnerPool : IDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);
    private readonly JobRunnerOptions _options;
    private readonly IReadOnlyList<string> _command;
    private readonly Func<IEnumerable<KeyValuePair<string, string?>>> _environment;
    private readonly Stack<ScriptRunner> _idle = new(); // also the lock
    private readonly Dictionary<ScriptRunner, string> _ownerOf = []; // whose a runner is ("" for the worker's own user)
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

    /// <param name="owner">The account the job runs as (a multi-user cluster's); null: the worker's own.</param>
    public async Task<JobOutcome> RunAsync(RunnerJob job, Action<int, DateTimeOffset> onStarted, Action<OutputLine> emit, Func<bool> hold,
        CancellationToken cancel, int? timeoutSec, Func<string?>? whyCancelled = null, Platform.UserAccount? owner = null)
    {
        ScriptRunner runner;
        var ownerName = owner?.Name ?? "";
        try
        {
            runner = Take(ownerName) ?? await Start(owner).WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return new JobOutcome(JobState.Cancelled, null, "cancelled", null, null, DateTimeOffset.UtcNow);
        }

        lock (_idle)
        {
            _busy.Add(runner);
            _ownerOf[runner] = ownerName;
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

    /// <summary>A new runner: as <paramref name="owner"/> (setpriv, in their home, with their variables) when one is given.</summary>
    private Task<ScriptRunner> Start(Platform.UserAccount? owner)
    {
        if (owner is null || _options.Owners is not { } owners)
        {
            return ScriptRunner.StartAsync(_command, RunnerEnvironment(), "/", ReadyWithin);
        }

        var environment = RunnerEnvironment().ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        JobOwners.ApplyEnvironment(environment, owner);
        return ScriptRunner.StartAsync(owners.Wrap(owner, _command), environment, "/", ReadyWithin);
    }

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

    /// <summary>An idle runner of <paramref name="owner"/>'s (the most recently used), or null; dead ones are let go on the way.</summary>
    private ScriptRunner? Take(string owner)
    {
        lock (_idle)
        {
            var others = new List<ScriptRunner>();
            ScriptRunner? found = null;
            while (found is null && _idle.TryPop(out var runner))
            {
                if (runner.Exited.IsCompleted)
                {
                    _ownerOf.Remove(runner);
                    runner.Dispose();
                }
                else if (_ownerOf.GetValueOrDefault(runner, "") == owner)
                {
                    found = runner;
                }
                else
                {
                    others.Add(runner);
                }
            }

            for (var i = others.Count - 1; i >= 0; i--)
            {
                _idle.Push(others[i]); // back in their order
            }

            return found;
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

            _ownerOf.Remove(runner);
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
            old.ForEach(r => _ownerOf.Remove(r));
            var keep = _idle.Except(old).Reverse().ToList();
            _idle.Clear();
            keep.ForEach(_idle.Push);
        }

        old.ForEach(r => r.Quit());
    }
}
