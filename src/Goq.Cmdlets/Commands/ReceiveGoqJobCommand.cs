using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets.Commands;

/// <summary>
/// A job's output: stdout lines on the output stream and stderr lines on the error stream, in the order the job
/// wrote them, as pwsh does for native commands; for a script-block job, the objects it output (deserialized) and its
/// error, warning, verbose, debug and information records on their streams. Works while the job runs (what has arrived so far) and after.
/// Output stays on the server (as with Receive-Job -Keep). When this host sees the job's output file (a shared file
/// system, or the server's host) the lines are read from it directly, at disk speed; otherwise page by page from the
/// server (or always so, with -ViaServer). With -AsByteStream, the output file's bytes as they are, both streams
/// interleaved as written (byte[] chunks): for a job whose worker wrote the file (one on the server's host), exactly the
/// bytes the job wrote.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "GoqJob")]
[OutputType(typeof(string), typeof(PSObject), typeof(byte[]))]
public sealed class ReceiveGoqJobCommand : GoqJobIdCmdlet
{
    private const int PageLines = 10_000;

    /// <summary>Read through the server even when this host sees the output file.</summary>
    [Parameter]
    public SwitchParameter ViaServer { get; set; }

    /// <summary>Follow a running job's output as it comes until the job ends (Ctrl+C stops following, not the job).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>The bytes of the job's output file as they are, in byte[] chunks, instead of text lines.</summary>
    [Parameter]
    public SwitchParameter AsByteStream { get; set; }

    private const int ByteChunk = 1024 * 1024;

    private static readonly TimeSpan FollowFirst = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FollowAtMost = TimeSpan.FromMilliseconds(500);

    // Jobs whose maps have been asked for and not yet read, in order: many jobs (a pipeline of them) cost one round
    // trip at a time only while the first is awaited, not one each.
    private const int MapsAhead = 64;
    private readonly Queue<(long Id, Task<Protocol.OutputMapReply> Map)> _ahead = new();
    private CmdletSink? _sink;

    // Not gathered for the end: each job's output is asked for as its record comes, and written in order.
    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            // Asked for records: a script-block job's map is of its records file, any other job's of its text.
            _ahead.Enqueue((id, Client.GetOutputMapAsync(id, CancelToken, records: !AsByteStream)));
            while (_ahead.Count > MapsAhead || (_ahead.Count > 0 && _ahead.Peek().Map.IsCompleted))
            {
                var (next, map) = _ahead.Dequeue();
                Receive(next, map);
            }
        }
    }

    protected override void EndProcessing()
    {
        while (_ahead.TryDequeue(out var next))
        {
            Receive(next.Id, next.Map);
        }
    }

    private void Receive(long id, Task<Protocol.OutputMapReply> mapTask)
    {
        if (Reply(mapTask, id) is not { } map)
        {
            return;
        }

        if (AsByteStream)
        {
            ReceiveBytes(id, map);
            return;
        }

        var records = map.Records ? new RecordWriter(_sink ??= new CmdletSink(this), id, map.WorkerHost) : null;
        // A finished job is read from the file when this host sees it; one being followed (-Wait) through the server,
        // which knows when it has ended.
        if (!ViaServer && !(Wait && !map.Complete) && Output.LocalOutputReader.Open(map) is { } local)
        {
            foreach (var page in local.Pages(PageLines))
            {
                ThrowIfStopped();

                WriteLines(id, page, records);
            }

            return;
        }

        ReceiveViaServer(id, records);
    }

    /// <summary>A reply about one job; null (with the error written) when the job is unknown or its output unreadable. Other failures end the cmdlet.</summary>
    private T? Reply<T>(Task<T> reply, long id) where T : class
    {
        try
        {
            return RunBlocking(_ => reply, handled: ex => ex.Kind is GoqErrorKind.NotFound or GoqErrorKind.NotReadable);
        }
        catch (GoqException ex)
        {
            WriteGoqError(ex, id);
            return null;
        }
    }

    private void ReceiveViaServer(long id, RecordWriter? records)
    {
        // The next page is asked for as soon as a page arrives, so the server reads it while this thread writes.
        var next = Client.ReadOutputAsync(id, 0, PageLines, CancelToken, records: records is not null);
        var pause = FollowFirst;
        while (true)
        {
            if (Reply(next, id) is not { } page)
            {
                return;
            }

            // Done once the job has ended and every line came, or (while it runs) once a page brings nothing new, unless
            // following it (-Wait): then asked again, sooner while lines come, up to every half second while none do.
            var more = !page.Complete && (page.Lines.Count > 0 || Wait);
            if (more)
            {
                pause = page.Lines.Count > 0 ? FollowFirst : TimeSpan.FromTicks(Math.Min(FollowAtMost.Ticks, pause.Ticks * 2));
                var (line, offset) = (page.NextLine, page.NextOffset);
                next = page.Lines.Count > 0
                    ? Client.ReadOutputAsync(id, line, PageLines, CancelToken, offset, records is not null)
                    : Task.Delay(pause, CancelToken).ContinueWith(_ => Client.ReadOutputAsync(id, line, PageLines, CancelToken, offset, records is not null),
                        CancelToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();
            }

            WriteLines(id, page.Lines, page.Records ? records : null);
            if (!more)
            {
                return;
            }
        }
    }

    private void ReceiveBytes(long id, Protocol.OutputMapReply map)
    {
        if (!ViaServer && !(Wait && !map.Complete) && Output.LocalOutputReader.Open(map) is { } local)
        {
            foreach (var chunk in local.Bytes(ByteChunk))
            {
                ThrowIfStopped();

                WriteObject(chunk, enumerateCollection: false);
            }

            return;
        }

        long offset = 0;
        var pause = FollowFirst;
        while (Reply(Client.ReadOutputBytesAsync(id, offset, CancelToken), id) is { } page)
        {
            if (page.Data.Length > 0)
            {
                WriteObject(page.Data, enumerateCollection: false);
            }

            offset = page.NextOffset;
            if (page.Complete || (page.Data.Length == 0 && !Wait))
            {
                return;
            }

            if (page.Data.Length == 0)
            {
                RunBlocking(token => Task.Delay(pause, token)); // following a running job (-Wait): ask again, less often while nothing comes
                pause = TimeSpan.FromTicks(Math.Min(FollowAtMost.Ticks, pause.Ticks * 2));
            }
            else
            {
                pause = FollowFirst;
            }
        }
    }

    private void WriteLines(long id, IReadOnlyList<OutputLine> lines, RecordWriter? records)
    {
        foreach (var line in lines)
        {
            if (records is not null)
            {
                records.Add(line.Text);
                continue;
            }

            RecordWriter.WriteText(_sink ??= new CmdletSink(this), id, line);
        }
    }
}
