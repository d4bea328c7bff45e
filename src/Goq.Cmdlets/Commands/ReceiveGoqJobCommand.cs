using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// A job's output: stdout lines on the output stream and stderr lines on the error stream, in the order the job
/// wrote them, as pwsh does for native commands. Works while the job runs (what has arrived so far) and after.
/// Output stays on the server (as with Receive-Job -Keep). When this host sees the job's output file (a shared file
/// system, or the server's host) the lines are read from it directly, at disk speed; otherwise page by page from the
/// server (or always so, with -ViaServer).
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "GoqJob")]
[OutputType(typeof(string))]
public sealed class ReceiveGoqJobCommand : GoqClientCmdlet
{
    private const int PageLines = 10_000;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long[] Id { get; set; } = [];

    /// <summary>Read through the server even when this host sees the output file.</summary>
    [Parameter]
    public SwitchParameter ViaServer { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Receive(id);
        }
    }

    private void Receive(long id)
    {
        if (!ViaServer && ReceiveFromFile(id) is var done && done != false)
        {
            return;
        }

        ReceiveViaServer(id);
    }

    /// <summary>True when the output was read from the file here; false to read it through the server; null on an error written.</summary>
    private bool? ReceiveFromFile(long id)
    {
        Protocol.OutputMapReply map;
        try
        {
            map = Client.GetOutputMapAsync(id, CancelToken).GetAwaiter().GetResult();
        }
        catch (GoqException ex) when (ex.Kind == GoqErrorKind.NotFound)
        {
            WriteGoqError(ex, id);
            return null;
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (GoqException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            return null;
        }

        if (Output.LocalOutputReader.Open(map) is not { } local)
        {
            return false;
        }

        foreach (var page in local.Pages(PageLines))
        {
            if (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }

            WriteLines(id, page);
        }

        return true;
    }

    private void ReceiveViaServer(long id)
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

            WriteLines(id, page.Lines);
            if (!more)
            {
                return;
            }
        }
    }

    private void WriteLines(long id, IReadOnlyList<OutputLine> lines)
    {
        foreach (var line in lines)
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
    }
}
