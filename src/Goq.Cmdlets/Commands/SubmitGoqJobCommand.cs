using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using Goq.Client;
using Goq.Timing;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Queues jobs: a command line (run by the shell), a program with an exact argument list, script files or script
/// blocks. One job per pipeline record; records are sent in batches (by count, age and bytes, so a batch always fits
/// in a message), so a long pipeline does not pay one round trip per job. Each batch carries an id of its own and is
/// sent again across a server restart (GOQ_SUBMIT_RETRY_SEC, default 30 s): a pipeline cut by a restart queues every
/// job once. A server that has not answered yet is not waited for: a local one that does not run is said at once.
/// Over 400 lines because of its parameters (every scheduling option a job can have, each with its validation and its
/// help text); the rest maps them to a spec per record and writes the jobs the server queued. What a record becomes is
/// <see cref="SubmitInput"/>'s (and <see cref="ScriptFiles"/>'), which jobs travel together
/// <see cref="SubmitBatcher"/>'s, what Ctrl+C tells <see cref="InFlightBatch"/>'s, and the rules behind a job are the
/// engine's.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "GoqJob", DefaultParameterSetName = CommandSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobInfo), typeof(GoqJob))]
public sealed class SubmitGoqJobCommand : GoqClientCmdlet
{
    private const string CommandSet = "Command";
    private const string PathSet = "LiteralPath";
    private const string ScriptBlockSet = "ScriptBlock";
    private const string InputSet = "Input";

    private readonly ConcurrentQueue<string> _retries = new();
    private SubmitBatcher? _batcher;
    private RetryingSubmitter? _submitter;
    private string? _script;
    private ScriptJobData? _scriptData;
    private SubmitInput? _input;
    private bool _pathsGiven;
    private SubmitterEnvironment? _environment;
    private InFlightBatch? _inFlight;

    // Cancels the batch in flight: not at once on Ctrl+C, but a grace after it, so its answer can still be told.
    private readonly CancellationTokenSource _sendCancel = new();
    private string _submittedBy = "";
    private string _directory = "";
    private readonly HashSet<long> _existingJobs = [];

    /// <summary>A command line for the shell or, with -ArgumentList or pipeline input, the program to run.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = CommandSet)]
    [CommandLine]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    /// <summary>
    /// Exact arguments: the program runs without a shell, each argument passed as it is (as text). For a script block,
    /// the values bound to its param() (serialized, as Start-Job does).
    /// </summary>
    [Parameter(Position = 1, ParameterSetName = CommandSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(Position = 1, ParameterSetName = ScriptBlockSet)]
    [Parameter(ParameterSetName = InputSet)]
    [AllowEmptyString]
    [AllowEmptyCollection]
    [AllowNull]
    public object?[]? ArgumentList { get; set; }

    /// <summary>A PowerShell script block, run on a worker in a fresh runspace; what it outputs comes back as objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>
    /// One job per record. For a script block, its $_ and $input; for a command (-Command, -LiteralPath), its last
    /// argument (a file's full path, else the text); with neither, the job itself (a string is a command line, a file a
    /// script).
    /// </summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = ScriptBlockSet)]
    [Parameter(ValueFromPipeline = true, ParameterSetName = CommandSet)]
    [Parameter(ValueFromPipeline = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>How deep the objects a script-block or .ps1 job outputs (and its arguments and input) are serialized; default 2.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int SerializationDepth { get; set; } = JobSpec.DefaultSerializationDepth;

    /// <summary>Script files to run, one job each: .ps1 as a script block (read now), others directly or through bash.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Where the job runs; default the current file-system location.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <summary>Seconds the job may run; past that its process tree is killed and it fails.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? TimeoutSec { get; set; }

    /// <summary>How many times the job may be handed to a worker, if workers are lost while running it.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int MaxAttempts { get; set; } = JobSpec.DefaultMaxAttempts;

    /// <summary>Return each job as a PowerShell job (Goq.GoqJob), for Get-Job, Wait-Job, Receive-Job, Stop-Job and Remove-Job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Variables set for the job; they win over the submitter's and the worker's.</summary>
    [Parameter]
    public Hashtable? Environment { get; set; }

    /// <summary>
    /// Jobs that must end before this one runs (see -DependencyMode): ids, or the Goq.JobInfo and Goq.GoqJob objects Goq
    /// returns. Until then the job is Blocked; if they can no longer do what it needs, it ends DependencyFailed.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [GoqJobIds]
    [ValidateRange(1, long.MaxValue)]
    public long[]? DependsOn { get; set; }

    /// <summary>Queue the job Held: it starts only once Resume-GoqJob releases it.</summary>
    [Parameter]
    public SwitchParameter Hold { get; set; }

    /// <summary>The job does not start before this time.</summary>
    [Parameter]
    public DateTime? NotBefore { get; set; }

    /// <summary>Higher runs first (default 0); first come, first served within a priority. Set-GoqJob changes a waiting job's.</summary>
    [Parameter]
    public int Priority { get; set; }

    /// <summary>What the jobs in -DependsOn must do: AfterOk (complete), AfterAny (end), AfterNotOk (end, one of them not completing).</summary>
    [Parameter]
    public DependencyMode DependencyMode { get; set; }

    /// <summary>
    /// Run a job that fails (non-zero exit, time-out, could not start) again, up to this many times. Every attempt is
    /// kept (Get-GoqJob -IncludeAttempts); the job's dependents and waiters hear only of its last.
    /// </summary>
    [Parameter]
    [ValidateRange(0, JobSpec.MaxRetryCount)]
    public int RetryCount { get; set; }

    /// <summary>Seconds to wait before each retry.</summary>
    [Parameter]
    [ValidateRange(0, 7 * 86400)]
    public int RetryDelaySec { get; set; }

    /// <summary>The queue the job waits in (default: default); only workers serving it (Start-GoqWorker -Queue) run it.</summary>
    [Parameter]
    [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string Queue { get; set; } = JobSpec.DefaultQueue;

    /// <summary>How many slots of one worker the job takes while it runs (default 1).</summary>
    [Parameter]
    [ValidateRange(1, 4096)]
    public int SlotCount { get; set; } = 1;

    /// <summary>Labels a worker must have, every one of them (Start-GoqWorker -Label), to run the job.</summary>
    [Parameter]
    [ValidateCount(0, 64)]
    [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
    public string[]? Require { get; set; }

    /// <summary>
    /// Make the job an array job: one task per index, each run with GOQ_ARRAY_ID set to its index (and $GoqArrayId in a
    /// script block). The array has one id, for Wait-, Stop-, Remove-GoqJob and -DependsOn; its tasks start in index order.
    /// </summary>
    [Parameter]
    [ValidateCount(1, JobSpec.MaxArrayTasks)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? ArrayIndex { get; set; }

    /// <summary>At most this many of the array's tasks run at once (default: no cap).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ThrottleLimit { get; set; }

    protected override void BeginProcessing()
    {
        if (ArrayIndex is null && ThrottleLimit > 0)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
                "-ThrottleLimit caps an array's tasks: use it with -ArrayIndex", ThrottleLimit));
        }

        if (ArrayIndex is not null && AsJob)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
                "an array job is not a PowerShell job: submit it without -AsJob, and use Wait-GoqJob and Receive-GoqJob on its tasks", "AsJob"));
        }

        if (ArrayIndex is not null && ArrayIndex.Distinct().Count() != ArrayIndex.Length)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
                "-ArrayIndex names an index more than once; each task needs an index of its own", ArrayIndex));
        }

        _submittedBy = $"{System.Environment.UserName}@{System.Environment.MachineName}"; // looked up once: not free per job

        // Resolved once for the whole pipeline: resolving a location reads /proc/self/mountinfo every time, which was
        // more than half of the cost of submitting a job from the pipeline.
        _directory = ResolveWorkingDirectory();
        var explicitVariables = Environment?.Cast<DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string?>(e.Key.ToString() ?? "", e.Value?.ToString()));
        _environment = OrTerminate(() => SubmitterEnvironment.Capture(SecretText, explicitVariables,
            name => WriteWarning($"-Environment {name} is not passed to the job: Goq's own settings and the cluster secret never are")));
        _batcher = new SubmitBatcher(_environment.Captured);

        if (ParameterSetName == ScriptBlockSet)
        {
            // $using: values are taken once, from the caller's scope, when the pipeline starts (as Start-Job does).
            _script = ScriptBlock.ToString();
            _scriptData = ScriptJobData.Capture(ScriptBlock, SessionState, SerializationDepth, out var missing);
            if (missing is not null)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(Errors.GoqErrorIds.UsingVariableNotFound, Errors.GoqErrorKind.NotFound,
                    $"the script block uses $using:{missing}, but no variable '{missing}' exists here", missing,
                    $"Define ${missing} before submitting the job, or remove $using:{missing} from the script block."));
            }
        }

        var bound = MyInvocation.BoundParameters;
        _pathsGiven = bound.ContainsKey(nameof(LiteralPath));
        _input = new SubmitInput(bound.ContainsKey(nameof(ArgumentList)) ? ArgumentList ?? [] : null,
            new ScriptFiles(SessionState, SerializationDepth), ProviderPathOf, WriteWarning);

        var settings = Settings;
        _submitter = new RetryingSubmitter(() => ClientCache.Get(settings), TimeSpan.FromSeconds(settings.SubmitRetrySec), _retries.Enqueue,
            () => ServerProbe.ThrowIfNotListening(settings), severalServers: settings.Servers.Count > 1);
    }

    protected override void ProcessRecord()
    {
        var directory = _directory;
        if (ParameterSetName == ScriptBlockSet)
        {
            var input = MyInvocation.BoundParameters.ContainsKey(nameof(InputObject));
            string data;
            try
            {
                data = _scriptData!.Serialize(ArgumentList ?? [], input, InputObject, WriteWarning);
            }
            catch (Errors.GoqException ex) when (ex.ErrorId == Errors.GoqErrorIds.ArgumentNotSerializable)
            {
                WriteError(ErrorRecordFactory.From(ex, InputObject)); // this record only: the others go on
                return;
            }

            Add(new JobSpec
            {
                Kind = JobKind.ScriptBlock,
                Command = _script!,
                ScriptData = data,
                SerializationDepth = SerializationDepth == JobSpec.DefaultSerializationDepth ? null : SerializationDepth,
                WorkingDirectory = directory,
            });
        }
        else
        {
            // A record is an argument only for a command given on the command line (a path bound from the record is not).
            var hasInput = MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)) && (ParameterSetName != PathSet || _pathsGiven);
            IEnumerable<SubmitInput.Item> items = ParameterSetName == InputSet
                ? [_input!.ForRecord(InputObject)]
                : _input!.ForCommand(ParameterSetName == CommandSet ? Command : null, ParameterSetName == PathSet ? LiteralPath : [], hasInput, InputObject);
            foreach (var item in items)
            {
                if (item.Error is not null)
                {
                    WriteError(item.Error);
                    continue;
                }

                var spec = item.Spec! with { WorkingDirectory = directory };
                Add(spec.Kind == JobKind.ScriptBlock && SerializationDepth != JobSpec.DefaultSerializationDepth ? spec with { SerializationDepth = SerializationDepth } : spec, item.Target);
            }
        }

        if (_batcher!.IsDue(Instant.SteadyNow))
        {
            Send(_batcher.Take());
        }
    }

    protected override void EndProcessing()
    {
        Send(_batcher!.Take());
        CollectInFlight();
    }

    private void Add(JobSpec spec, string? target = null)
    {
        if (!ShouldProcess(target ?? spec.Command, "Submit Goq job"))
        {
            return;
        }

        if (DependsOn is { Length: > 0 } && MissingDependency(DependsOn) is { } missing)
        {
            WriteError(ErrorRecordFactory.Create(Errors.GoqErrorIds.DependencyNotFound, Errors.GoqErrorKind.NotFound,
                $"the job depends on job {missing}, which does not exist (never submitted, or removed); it was not submitted", missing));
            return;
        }

        spec = _environment!.ApplyTo(spec) with
        {
            Name = Name ?? spec.Name,
            TimeoutSec = TimeoutSec,
            MaxAttempts = MaxAttempts,
            RetryCount = RetryCount,
            RetryDelaySec = RetryDelaySec,
            SubmittedBy = _submittedBy,
            DependsOn = DependsOn ?? [],
            DependencyMode = DependencyMode,
            Priority = Priority,
            Queue = Queue,
            SlotCount = SlotCount,
            ArrayIndex = ArrayIndex,
            ThrottleLimit = ThrottleLimit,
            Require = Require ?? [],
            Hold = Hold,
            NotBefore = NotBefore is { } at ? new DateTimeOffset(at.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(at, DateTimeKind.Local) : at) : null,
        };

        IReadOnlyList<JobSpec>? full;
        try
        {
            full = _batcher!.Add(spec, Instant.SteadyNow);
        }
        catch (Errors.GoqException ex)
        {
            WriteGoqError(ex); // a job too large to send or to start: this record only, the others go on
            return;
        }

        if (full is not null)
        {
            Send(full);
        }
    }

    /// <summary>
    /// A job id in <paramref name="ids"/> the server does not know, or null. Asked once per id for the whole pipeline,
    /// so a record that names an unknown job fails alone, not the batch it would have travelled in.
    /// </summary>
    private long? MissingDependency(long[] ids)
    {
        var unseen = ids.Where(id => !_existingJobs.Contains(id)).Distinct().ToList();
        if (unseen.Count > 0)
        {
            var client = Client; // a local server that does not run is said at once, as for the batches
            var reply = RunBlocking(token => client.GetJobsAsync(unseen, null, token));
            foreach (var id in unseen.Except(reply.Unknown))
            {
                _existingJobs.Add(id);
            }
        }

        return ids.Where(id => !_existingJobs.Contains(id)).Cast<long?>().FirstOrDefault();
    }

    private void Send(IReadOnlyList<JobSpec> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // One batch in flight while the next is gathered: the server commits and answers batch N while the pipeline
        // produces batch N+1. Batch N+1 is sent only after N was accepted, so a failure stops the rest, and results
        // come out in submission order.
        CollectInFlight();
        _inFlight = new InFlightBatch(_submitter!.SubmitAsync(batch, RetryingSubmitter.NewBatchId(), _sendCancel.Token), batch.Count);
    }

    protected override void StopProcessing()
    {
        base.StopProcessing();
        try
        {
            _sendCancel.CancelAfter(InFlightBatch.StopGrace);
        }
        catch (ObjectDisposedException)
        {
            // The pipeline already ended (see OnDisposing): nothing is in flight.
        }
    }

    // Checkpoint (Ctrl+C): a batch sent but not written out when the pipeline stopped outside this cmdlet (the usual
    // case: the records' producer runs most of the time) is told about here, as CollectInFlight tells it otherwise.
    // A batch still in flight here means EndProcessing did not run to its end; StopProcessing may come only after
    // this (Ctrl+C stops the pipeline before it tells each command), so the grace starts here too.
    protected override void OnDisposing()
    {
        if (_inFlight is { } inFlight)
        {
            _inFlight = null;
            _sendCancel.CancelAfter(InFlightBatch.StopGrace);
            WarnStopped(inFlight.StoppedWarning());
        }

        _sendCancel.Dispose();
    }

    private void CollectInFlight()
    {
        if (_inFlight is { } inFlight)
        {
            _inFlight = null;
            IReadOnlyList<JobInfo> jobs;
            try
            {
                jobs = RunBlocking(_ => inFlight.Answer);
            }
            catch (PipelineStoppedException)
            {
                WarnStopped(inFlight.StoppedWarning());
                throw;
            }

            while (_retries.TryDequeue(out var retry))
            {
                WriteVerbose(retry);
            }

            // One at a time: Ctrl+C can stop the pipeline before or between them (also while the answer came), and the
            // rest are then named. A stop while the commands downstream take a job throws from its WriteObject, which
            // may have handed it on.
            var settings = Settings;
            for (var i = 0; i < jobs.Count; i++)
            {
                if (Stopping)
                {
                    WarnStopped(InFlightBatch.UnwrittenWarning(jobs.Skip(i).Select(j => j.Id).ToList()));
                    throw new PipelineStoppedException();
                }

                try
                {
                    WriteObject(AsJob ? GoqJobSourceAdapter.Adopt(this, jobs[i], settings, () => ClientCache.Get(settings)) : jobs[i]);
                }
                catch (PipelineStoppedException)
                {
                    WarnStopped(InFlightBatch.UnwrittenWarning(jobs.Skip(i).Select(j => j.Id).ToList(), firstMayBeWritten: true));
                    throw;
                }
            }
        }
    }

    // A stopped pipeline refuses every Write* (PipelineStoppedException), warnings too: the host is told directly.
    private void WarnStopped(string warning)
    {
        if (Host?.UI is { } ui)
        {
            ui.WriteWarningLine(warning);
        }
    }

    private string ResolveWorkingDirectory()
    {
        if (WorkingDirectory is null)
        {
            return CurrentDirectory;
        }

        var full = ProviderPathOf(WorkingDirectory);
        if (!Directory.Exists(full))
        {
            WriteWarning($"the working directory '{full}' does not exist here; the job fails unless it exists on the worker's host");
        }

        return full;
    }
}
