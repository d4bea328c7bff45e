using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// A job's output: stdout lines on the output stream and stderr lines on the error stream, in the order the job
/// wrote them, as pwsh does for native commands. Works while the job runs (what has arrived so far) and after.
/// Output stays on the server (as with Receive-Job -Keep).
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "GoqJob")]
[OutputType(typeof(string))]
public sealed class ReceiveGoqJobCommand : GoqClientCmdlet
{
    private const int PageLines = 10_000;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long[] Id { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Receive(id);
        }
    }

    private void Receive(long id)
    {
        // The next page is asked for as soon as a page arrives, so the server reads it while this thread writes.
        var next = Client.ReadOutputAsync(id, 0, PageLines, CancelToken);
        while (true)
        {
            Protocol.OutputReply page;
            try
            {
                page = next.GetAwaiter().GetResult();
            }
            catch (GoqException ex) when (ex.Kind == GoqErrorKind.NotFound)
            {
                WriteGoqError(ex, id);
                return;
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (GoqException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.From(ex));
                return;
            }

            // Done once the job has ended and every line came, or (while it runs) once a page brings nothing new.
            var more = !page.Complete && page.Lines.Count > 0;
            if (more)
            {
                next = Client.ReadOutputAsync(id, page.NextLine, PageLines, CancelToken, page.NextOffset);
            }

            foreach (var line in page.Lines)
            {
                if (line.Stream == OutputStream.Stderr)
                {
                    WriteError(new ErrorRecord(new RemoteException(line.Text), "NativeCommandError", ErrorCategory.NotSpecified, id));
                }
                else
                {
                    WriteObject(line.Text);
                }
            }

            if (!more)
            {
                return;
            }
        }
    }
}
