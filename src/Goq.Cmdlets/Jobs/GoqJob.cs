using System.ComponentModel;
using System.Management.Automation;
using Goq.Client;
using Goq.Cmdlets;
using PSJobState = System.Management.Automation.JobState;

namespace Goq;

/// <summary>
/// A Goq job as a PowerShell job (PSJobTypeName 'GoqJob'), so Get-Job, Wait-Job, Receive-Job, Stop-Job and Remove-Job
/// work on it. Its InstanceId comes from the server's key and the job's id, so it is the same in every session. The
/// server pushes its end (one watch for all the session's jobs of a server); its output is followed while it runs
/// (<see cref="GoqJobOutput"/>) and the rest read into the job's collections before its state changes, so Wait-Job
/// and Receive-Job -Wait see everything. A job that had ended when this object was made is in its final state from
/// the start, and its output is read, page by page, only when something first uses its streams (Receive-Job, the
/// Output, Error, ... properties): listing a hundred ended jobs reads none of their output. Waiting maps to NotStarted
/// (never Blocked, which Wait-Job refuses), Cancelled to Stopped. ChildJobs are kept for job arrays.
/// </summary>
public sealed class GoqJob : Job2
{
    private readonly object _gate = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JobEndWatcher> Watchers = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly GoqJobOutput _output;
    private volatile bool _loaded;
    private volatile bool _unread; // ended when made, its output not read yet: read at the first use of its streams
    private bool? _hasOutput; // for an unread job: whether the server holds any output for it (asked once)
    private int _watching;

    internal GoqJob(JobInfo info, Guid instanceId, GoqJobSourceAdapter? owner, Func<GoqClient> client)
        : base(info.Command, info.Name ?? $"Goq{info.Id}", instanceId)
    {
        Owner = owner;
        Client = client;
        Info = info;
        PSJobTypeName = GoqJobSourceAdapter.TypeName;
        _output = new GoqJobOutput(this);
        if (info.State.IsTerminal())
        {
            // Checkpoint: final at once, so the first Receive-Job (which reads the streams, and so loads them) gets
            // everything; nothing is read before that.
            _loaded = true;
            _unread = true;
            SetState(StateOf(info.State), info.State == Goq.JobState.Failed ? new GoqJobFailedException(info) : null);
            _finished.TrySetResult();
        }
    }

    /// <summary>The server's id for this job.</summary>
    public long GoqId => Info.Id;

    /// <summary>The latest record of the job.</summary>
    public JobInfo Info { get; private set; }

    public int? ExitCode => Info.ExitCode;

    public override string Location => Info.WorkerHost ?? "";

    public override string StatusMessage => Info.Reason ?? "";

    /// <summary>For a job whose output is not read yet, whether the server holds any (asked once, without reading it).</summary>
    public override bool HasMoreData => _unread ? (_hasOutput ??= AnyOutput()) ?? true
        : Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    // A job table asks every row: a server that did not answer one row within a second is not asked again for the
    // next half minute (each row would otherwise wait out the request time-out, 5 s, in turn).
    private static readonly TimeSpan AskWithin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SilentFor = TimeSpan.FromSeconds(30);
    private static long _silentUntil;

    /// <summary>Whether the server holds output for the job; null when it cannot tell (asked again next time).</summary>
    private bool? AnyOutput()
    {
        if (Environment.TickCount64 < Interlocked.Read(ref _silentUntil))
        {
            return null; // cannot tell: Receive-Job will say
        }

        try
        {
            using var within = new CancellationTokenSource(AskWithin);
            return Client().GetOutputMapAsync(GoqId, within.Token, records: Info.Kind == JobKind.ScriptBlock).GetAwaiter().GetResult().Lines > 0;
        }
        catch (Exception ex) when (ex is Errors.GoqException or IOException or OperationCanceledException)
        {
            if (ex is not Errors.GoqException { Kind: not Errors.GoqErrorKind.Connection })
            {
                Interlocked.Exchange(ref _silentUntil, Environment.TickCount64 + (long)SilentFor.TotalMilliseconds); // no answer
            }

            return null; // cannot tell: Receive-Job will say
        }
    }

    /// <summary>
    /// The first use of the streams of a job that had ended when it was made: its output is read now. Its own streams
    /// were closed when it was made final, so fresh ones take it.
    /// </summary>
    protected override void DoLoadJobStreams()
    {
        if (!_unread)
        {
            return;
        }

        // What was followed while it ran (a job this session held, made final by a listing) is carried over.
        Output = Carried(Output);
        Error = Carried(Error);
        Warning = Carried(Warning);
        Verbose = Carried(Verbose);
        Debug = Carried(Debug);
        Information = Carried(Information);
        Progress = Carried(Progress);
        _unread = false;
        ReadOutput();
    }

    private static PSDataCollection<T> Carried<T>(PSDataCollection<T> closed)
    {
        var fresh = new PSDataCollection<T>();
        for (var i = 0; i < closed.Count; i++)
        {
            fresh.Add(closed[i]);
        }

        return fresh;
    }

    internal Func<GoqClient> Client { get; }

    internal GoqJobSourceAdapter? Owner { get; set; }

    /// <summary>True once the job's end has been taken (its output is being, or has been, read).</summary>
    internal bool Ended => _loaded;

    /// <summary>Has the server push the job's end (once), and follows its output meanwhile.</summary>
    internal void WatchEnd()
    {
        _output.Follow();
        if (Interlocked.Exchange(ref _watching, 1) != 0)
        {
            return;
        }

        var client = Client();
        Watchers.GetOrAdd(client.Endpoint, _ => new JobEndWatcher(Client)).Watch(GoqId, ended =>
        {
            if (ended is not null)
            {
                Update(ended, loadNow: false);
            }
        });
    }

    /// <summary>Takes the server's latest record of the job (it pushes ends, not starts).</summary>
    internal async Task RefreshAsync()
    {
        var page = await Client().GetJobsPageAsync([GoqId], null, 0).ConfigureAwait(false);
        if (page.Jobs.FirstOrDefault(j => j.Id == GoqId) is { } info)
        {
            Update(info, loadNow: false);
        }
    }

    internal static PSJobState StateOf(Goq.JobState state) => state switch
    {
        Goq.JobState.Running => PSJobState.Running,
        Goq.JobState.Completed => PSJobState.Completed,
        Goq.JobState.Failed or Goq.JobState.DependencyFailed => PSJobState.Failed,
        Goq.JobState.Cancelled => PSJobState.Stopped,
        Goq.JobState.Held => PSJobState.Suspended,
        _ => PSJobState.NotStarted,
    };

    /// <summary>
    /// A listing's record (Get-Job): an end found here is final at once, and the rest of the output is read only when
    /// something first uses the streams, as for a job that had ended when made; so a listing shows the job's end and
    /// reads no output. An end already being taken (the server's push) is waited for, briefly.
    /// </summary>
    internal void UpdateListed(JobInfo info)
    {
        var endsHere = false;
        lock (_gate)
        {
            if (!_loaded && info.State.IsTerminal())
            {
                Info = info;
                _loaded = endsHere = true; // following stops: the rest is read from where it stopped
                _hasOutput = Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0 ? true : null;
                _unread = true;
                UnloadJobStreams(); // their next use reads the rest (DoLoadJobStreams)
            }
        }

        if (endsHere)
        {
            SetState(StateOf(info.State), info.State == Goq.JobState.Failed ? new GoqJobFailedException(info) : null);
            _finished.TrySetResult();
            return;
        }

        Update(info, loadNow: false);
        if (_loaded)
        {
            _finished.Task.Wait(ListedEndWait);
        }
    }

    private static readonly TimeSpan ListedEndWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Takes a newer record. An end is taken once: the output is read first (off the caller's thread when it is the
    /// client's), then the state is set, with the reason of a failure.
    /// </summary>
    internal void Update(JobInfo info, bool loadNow)
    {
        lock (_gate)
        {
            if (_loaded)
            {
                return; // ended and read: nothing changes any more
            }

            Info = info;
            if (!info.State.IsTerminal())
            {
                if (StateOf(info.State) != JobStateInfo.State)
                {
                    SetJobState(StateOf(info.State));
                }

                return;
            }

            _loaded = true;
        }

        if (loadNow)
        {
            Finish(info);
        }
        else
        {
            _ = Task.Run(() => Finish(info));
        }
    }

    public override void StartJob()
    {
    }

    public override void StartJobAsync() => OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, null));

    public override void StopJob() => StopJob(force: false, reason: null);

    // Checkpoint: Stop-Job waits for StopJobCompleted; it is raised whatever happens, or Stop-Job would hang.
    public override void StopJobAsync() => StopJobAsync(force: false, reason: null);

    public override void StopJob(bool force, string? reason)
    {
        if (JobStateInfo.State is PSJobState.Completed or PSJobState.Failed or PSJobState.Stopped)
        {
            return;
        }

        SetJobState(PSJobState.Stopping);
        var client = Client();
        var reply = client.CancelAsync([GoqId]).GetAwaiter().GetResult();
        var ended = reply.Cancelled.Concat(reply.AlreadyEnded).FirstOrDefault(j => j.Id == GoqId);
        if (ended is not null)
        {
            Update(ended, loadNow: true);
            _finished.Task.GetAwaiter().GetResult(); // its end may be being taken on another thread: wait for it
        }
        else
        {
            SetJobState(PSJobState.Stopped);
        }
    }

    public override void StopJobAsync(bool force, string? reason) => InBackground(() => StopJob(force, reason), OnStopJobCompleted);

    private static void InBackground(Action work, Action<AsyncCompletedEventArgs> completed) => _ = Task.Run(() =>
    {
        Exception? error = null;
        try
        {
            work();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error = ex;
        }

        completed(new AsyncCompletedEventArgs(error, false, null));
    });

    private void Hold(bool hold)
    {
        var reply = Client().HoldAsync([GoqId], hold).GetAwaiter().GetResult();
        if (reply.Changed.FirstOrDefault(j => j.Id == GoqId) is { } changed)
        {
            Update(changed, loadNow: false);
            return;
        }

        var what = hold ? "suspended" : "resumed";
        throw reply.Started.FirstOrDefault(j => j.Id == GoqId) is { } started
            ? new InvalidOperationException($"Goq job {GoqId} is {started.State}: only a job that has not started can be {what}")
            : new InvalidOperationException($"Goq job {GoqId} is not known to the server any more");
    }

    // Suspend-Job and Resume-Job hold and release the job on the server (Suspend-GoqJob, Resume-GoqJob); only a job that
    // has not started can be. Like Stop-Job, they wait for the Completed event, which is raised whatever happens.
    public override void SuspendJob() => Hold(true);

    public override void SuspendJobAsync() => SuspendJobAsync(force: false, reason: null);

    public override void SuspendJob(bool force, string? reason) => Hold(true);

    public override void SuspendJobAsync(bool force, string? reason) => InBackground(() => Hold(true), OnSuspendJobCompleted);

    public override void ResumeJob() => Hold(false);

    public override void ResumeJobAsync() => InBackground(() => Hold(false), OnResumeJobCompleted);

    public override void UnblockJob() => throw NotYet("Unblock-Job");

    public override void UnblockJobAsync() => throw NotYet("Unblock-Job");

    public override string ToString() => $"GoqJob {GoqId} ({Info.State})";

    private void Finish(JobInfo info)
    {
        ReadOutput();
        SetState(StateOf(info.State), info.State == Goq.JobState.Failed ? new GoqJobFailedException(info) : null);
        _finished.TrySetResult();
    }

    private void ReadOutput()
    {
        try
        {
            _output.ReadRest();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Error.Add(ErrorRecordFactory.Create(Errors.GoqErrorIds.JobOutputUnreadable, Errors.GoqErrorKind.NotReadable, ex.Message, GoqId, inner: ex));
        }
    }

    // Job2's SetJobState with a reason (so JobStateInfo.Reason carries why a job failed) is in pwsh 7 but not in the
    // reference assembly this builds against: found once, with the reasonless one as a fallback.
    private static readonly System.Reflection.MethodInfo? SetWithReason = typeof(Job2).GetMethod("SetJobState",
        System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, null,
        [typeof(PSJobState), typeof(Exception)], null);

    private void SetState(PSJobState state, Exception? reason)
    {
        if (SetWithReason is not null)
        {
            SetWithReason.Invoke(this, [state, reason]);
        }
        else
        {
            SetJobState(state);
        }
    }

    private static NotSupportedException NotYet(string what) => new($"{what} is not supported for Goq jobs yet");
}
