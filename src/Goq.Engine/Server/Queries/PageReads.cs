using System.Collections.Concurrent;
using Goq.Storage;
using NetMQ;

namespace Goq.Server.Queries;

/// <summary>
/// Reads the stored rows of Get-GoqJob's pages on a thread of its own, through the store's read-only connection, so a
/// client listing a million jobs never holds up dispatch: the loop thread only plans a page and finishes it. Pages are
/// read one at a time, in the order asked; the rows come back to the loop through <see cref="Done"/>, a queue its
/// poller watches.
/// </summary>
internal sealed class PageReads : IDisposable
{
    private readonly IJobReader _reader;
    private readonly BlockingCollection<PageRead> _asked = new();
    private readonly Thread _thread;

    public PageReads(IJobReader reader)
    {
        _reader = reader;
        _thread = new Thread(Run) { IsBackground = true, Name = "goq-page-reads" };
        _thread.Start();
    }

    /// <summary>Pages whose rows were read (or failed to be): taken by the loop thread.</summary>
    public NetMQQueue<PageRead> Done { get; } = new();

    /// <summary>Pages asked for and not finished yet.</summary>
    public int Pending => _asked.Count;

    /// <summary>
    /// Reads a page's rows. Checkpoint (read your writes): called after the commit of the turn that asked, so the rows
    /// hold every change acknowledged before the question.
    /// </summary>
    public void Read(PageRead page) => _asked.Add(page);

    private void Run()
    {
        foreach (var page in _asked.GetConsumingEnumerable())
        {
            try
            {
                page.Stored = _reader.Query(page.Window, page.States, page.AfterId, page.Limit + 1, page.Filter);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                page.Error = ex;
            }

            Done.Enqueue(page);
        }
    }

    public void Dispose()
    {
        _asked.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _reader.Dispose();
        Done.Dispose();
        _asked.Dispose();
    }
}
