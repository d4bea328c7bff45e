using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using Goq.Worker;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// Queues jobs: a command line (run by the shell), a program with an exact argument list, or script files. One job
/// per pipeline record; records are sent in batches, so a long pipeline does not pay one round trip per job.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "GoqJob", DefaultParameterSetName = CommandSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobInfo))]
public sealed class SubmitGoqJobCommand : GoqClientCmdlet
{
    private const string CommandSet = "Command";
    private const string PathSet = "LiteralPath";
    private const int BatchSize = 1000;
    private static readonly TimeSpan BatchAge = TimeSpan.FromMilliseconds(200);

    private readonly List<JobSpec> _pending = [];
    private readonly Stopwatch _sinceFirstPending = new();
    private Dictionary<string, string>? _captured;
    private Dictionary<string, string>? _explicit;
    private Task<IReadOnlyList<JobInfo>>? _inFlight;
    private string _submittedBy = "";
    private string _directory = "";

    /// <summary>A command line for the shell or, with -ArgumentList, the program to run.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = CommandSet)]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    /// <summary>Exact arguments: the program runs without a shell, each argument passed as it is.</summary>
    [Parameter(Position = 1, ParameterSetName = CommandSet)]
    [Parameter(ParameterSetName = PathSet)]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public string[]? ArgumentList { get; set; }

    /// <summary>Script files to run, one job each: .ps1 through pwsh, others directly or through bash.</summary>
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

    /// <summary>Variables set for the job; they win over the submitter's and the worker's.</summary>
    [Parameter]
    public Hashtable? Environment { get; set; }

    protected override void BeginProcessing()
    {
        _submittedBy = $"{System.Environment.UserName}@{System.Environment.MachineName}"; // looked up once: not free per job

        // Resolved once for the whole pipeline: resolving a location reads /proc/self/mountinfo every time, which was
        // more than half of the cost of submitting a job from the pipeline.
        _directory = ResolveWorkingDirectory();
        var secret = SecretText;
        _captured = JobEnvironment.Capture(System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, e.Value as string ?? "")), [secret]);
        _explicit = Environment?.Cast<DictionaryEntry>()
            .ToDictionary(e => e.Key.ToString() ?? "", e => e.Value?.ToString() ?? "", StringComparer.Ordinal);
        if (_explicit is not null)
        {
            var kept = JobEnvironment.Capture(_explicit, [secret]);
            foreach (var name in _explicit.Keys.Where(k => !kept.ContainsKey(k)))
            {
                WriteWarning($"-Environment {name} is not passed to the job: Goq's own settings and the cluster secret never are");
            }

            _explicit = kept;
        }
        if (_explicit?.Keys.FirstOrDefault(k => k.Length == 0 || k.Contains('=')) is { } bad)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create("GoqInvalidEnvironment", ErrorCategory.InvalidArgument,
                $"'{bad}' is not a valid environment variable name", bad));
        }
    }

    protected override void ProcessRecord()
    {
        var directory = _directory;
        if (ParameterSetName == PathSet)
        {
            foreach (var path in LiteralPath)
            {
                var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                if (!File.Exists(full))
                {
                    WriteError(ErrorRecordFactory.Create("GoqScriptNotFound", ErrorCategory.ObjectNotFound, $"no script file at '{full}'", full));
                    continue;
                }

                Add(new JobSpec { Kind = JobKind.Script, Command = full, ArgumentList = ArgumentList ?? [], WorkingDirectory = directory });
            }
        }
        else
        {
            var exact = MyInvocation.BoundParameters.ContainsKey(nameof(ArgumentList));
            Add(new JobSpec { Kind = exact ? JobKind.Exec : JobKind.Shell, Command = Command, ArgumentList = exact ? ArgumentList ?? [] : [], WorkingDirectory = directory });
        }

        if (_pending.Count >= BatchSize || (_pending.Count > 0 && _sinceFirstPending.Elapsed > BatchAge))
        {
            Flush();
        }
    }

    protected override void EndProcessing()
    {
        Flush();
        CollectInFlight();
    }

    private void Add(JobSpec spec)
    {
        if (!ShouldProcess(spec.Command, "Submit Goq job"))
        {
            return;
        }

        if (_pending.Count == 0)
        {
            _sinceFirstPending.Restart();
        }

        _pending.Add(spec with
        {
            Name = Name,
            TimeoutSec = TimeoutSec,
            MaxAttempts = MaxAttempts,
            CapturedEnvironment = _captured,
            Environment = _explicit,
            SubmittedBy = _submittedBy,
        });
    }

    private void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var batch = _pending.ToArray();
        _pending.Clear();

        // One batch in flight while the next is gathered: the server commits and answers batch N while the pipeline
        // produces batch N+1. Batch N+1 is sent only after N was accepted, so a failure stops the rest, and results
        // come out in submission order.
        CollectInFlight();
        var client = Client;
        _inFlight = client.SubmitAsync(batch, CancelToken);
    }

    private void CollectInFlight()
    {
        if (_inFlight is { } inFlight)
        {
            _inFlight = null;
            WriteObject(RunBlocking(_ => inFlight), enumerateCollection: true);
        }
    }

    private string ResolveWorkingDirectory()
    {
        if (WorkingDirectory is null)
        {
            return SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        }

        var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(WorkingDirectory);
        if (!Directory.Exists(full))
        {
            WriteWarning($"the working directory '{full}' does not exist here; the job fails unless it exists on the worker's host");
        }

        return full;
    }
}
