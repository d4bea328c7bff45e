using System.Management.Automation;

namespace Goq.Runner;

/// <summary>
/// The runner's tap in a job's pipeline, after the job's script block: serializes each object the job outputs, in
/// order and as it comes, then passes it on to be rendered as text. Only in the runner's runspaces.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "GoqRunnerRecord")]
public sealed class WriteRecordCommand : PSCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true)]
    public object Sink { get; set; } = null!;

    protected override void ProcessRecord()
    {
        var sink = (RecordSink)Sink;
        if (!sink.Output(InputObject))
        {
            throw new OutputLimitException(sink.LimitReason);
        }

        WriteObject(InputObject);
    }
}
