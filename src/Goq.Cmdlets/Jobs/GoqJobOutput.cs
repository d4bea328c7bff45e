using System.Management.Automation;
using Goq.Client;
using Goq.Cmdlets;
using PSJobState = System.Management.Automation.JobState;

namespace Goq;

/// <summary>
/// A GoqJob's output, read into its collections: followed through the server while the job waits or runs (so
/// Receive-Job shows what has come so far, and Receive-Job -Wait streams it), and the rest read once at its end. A
/// session follows at most <see cref="MaxFollowed"/> jobs at once, each polled sooner while lines come and up to every
/// two seconds while none do; the output of any other job is read at its end.
/// </summary>
internal sealed class GoqJobOutput(GoqJob job)
{
    public const int MaxFollowed = 32;
    private static readonly TimeSpan FollowFirst = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FollowAtMost = TimeSpan.FromSeconds(2);
    private static int s_followed;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly JobSink _sink = new(job);
    private RecordWriter? _records;
    private OutputCursor? _cursor;
    private int _following;

    /// <summary>Starts following the job's output, unless it is followed already or the session follows enough jobs.</summary>
    public void Follow()
    {
        if (Interlocked.Exchange(ref _following, 1) != 0)
        {
            return;
        }

        if (Interlocked.Increment(ref s_followed) > MaxFollowed)
        {
            Interlocked.Decrement(ref s_followed);
            Volatile.Write(ref _following, 0); // a later refresh (Get-Job) tries again
            return;
        }

        _ = Task.Run(FollowAsync);
    }

    /// <summary>Reads whatever has not been read yet; the job has ended.</summary>
    public void ReadRest()
    {
        _reading.Wait();
        try
        {
            var client = job.Client();
            if (_cursor is { Started: true } cursor)
            {
                // Through the server from where following stopped; a page with nothing new three times means no more.
                for (var empty = 0; !cursor.Complete && empty < 3;)
                {
                    empty = cursor.ReadNewAsync(client, Take).GetAwaiter().GetResult() == 0 ? empty + 1 : 0;
                }

                return;
            }

            // Nothing read yet: all of it, from the file when this host sees it.
            client.ReadAllOutputAsync(job.GoqId, Take).GetAwaiter().GetResult();
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task FollowAsync()
    {
        try
        {
            var pause = FollowFirst;
            while (!job.Ended)
            {
                int read;
                await _reading.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (job.Ended)
                    {
                        return; // the end has been taken: it reads the rest
                    }

                    _cursor ??= new OutputCursor(job.GoqId, job.Info.Kind == JobKind.ScriptBlock);
                    read = await _cursor.ReadNewAsync(job.Client(), Take).ConfigureAwait(false);
                }
                finally
                {
                    _reading.Release();
                }

                pause = read > 0 ? FollowFirst : TimeSpan.FromTicks(Math.Min(FollowAtMost.Ticks, pause.Ticks * 2));
                if (job.JobStateInfo.State == PSJobState.NotStarted && (read > 0 || pause == FollowAtMost))
                {
                    await job.RefreshAsync().ConfigureAwait(false); // the server pushes ends only: see whether it started
                }

                await Task.Delay(pause).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Following is a courtesy: the job's end reads whatever this did not.
        }
        finally
        {
            Interlocked.Decrement(ref s_followed);
        }
    }

    private void Take(OutputLine line, bool isRecord)
    {
        if (isRecord)
        {
            (_records ??= new RecordWriter(_sink, job.GoqId, _cursor?.WorkerHost ?? job.Info.WorkerHost)).Add(line.Text);
        }
        else
        {
            RecordWriter.WriteText(_sink, job.GoqId, line);
        }
    }

    /// <summary>A GoqJob's own collections.</summary>
    private sealed class JobSink(GoqJob job) : IStreamSink
    {
        public void WriteObject(object? value) => job.Output.Add(value is null ? null : PSObject.AsPSObject(value));

        public void WriteError(ErrorRecord record) => job.Error.Add(record);

        public void WriteWarning(string message) => job.Warning.Add(new WarningRecord(message));

        public void WriteVerbose(string message) => job.Verbose.Add(new VerboseRecord(message));

        public void WriteDebug(string message) => job.Debug.Add(new DebugRecord(message));

        public void WriteInformation(InformationRecord record) => job.Information.Add(record);
    }
}
