namespace Goq.Client;

/// <summary>
/// One watch on a server for any number of jobs, each with its own callback: PowerShell jobs of a session share it,
/// so a hundred jobs cost one wait (and one re-registration every few seconds), not a hundred. Jobs added while a
/// wait is in progress restart it with the whole set, once the additions have paused.
/// </summary>
public sealed class JobEndWatcher(Func<GoqClient> connect)
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);
    private readonly object _gate = new();
    private readonly Dictionary<long, List<Action<JobInfo?>>> _watched = [];
    private CancellationTokenSource? _current;
    private bool _running;

    /// <summary>How many jobs are watched now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _watched.Count;
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="onEnd"/> once, when the job has ended (with its record) or is unknown to the server (null).
    /// It runs on the client's thread: keep it short.
    /// </summary>
    public void Watch(long jobId, Action<JobInfo?> onEnd)
    {
        lock (_gate)
        {
            if (!_watched.TryGetValue(jobId, out var callbacks))
            {
                _watched[jobId] = callbacks = [];
                _current?.Cancel(); // the wait in progress lacks this job: wait again with it
            }

            callbacks.Add(onEnd);
            if (!_running)
            {
                _running = true;
                _ = Task.Run(RunAsync);
            }
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            long[] ids;
            CancellationTokenSource round;
            lock (_gate)
            {
                if (_watched.Count == 0)
                {
                    _running = false;
                    return;
                }

                _current = round = new CancellationTokenSource();
                ids = [.. _watched.Keys];
            }

            try
            {
                await Task.Delay(Settle, round.Token).ConfigureAwait(false); // a burst of additions makes one wait
                await connect().WaitAsync(ids, any: false, timeout: null, e => Ended(e.Id, e.Job), round.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (round.IsCancellationRequested)
            {
                // more jobs to watch: the next round waits for them all
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await Task.Delay(RetryAfter).ConfigureAwait(false); // the server is away: ask again
            }
            finally
            {
                lock (_gate)
                {
                    if (ReferenceEquals(_current, round))
                    {
                        _current = null;
                    }
                }

                round.Dispose();
            }
        }
    }

    private void Ended(long id, JobInfo? job)
    {
        List<Action<JobInfo?>>? callbacks;
        lock (_gate)
        {
            if (!_watched.Remove(id, out callbacks))
            {
                return;
            }
        }

        foreach (var callback in callbacks)
        {
            try
            {
                callback(job);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Checkpoint: one watcher's failure never stops the others' news, nor the client's thread.
            }
        }
    }
}
