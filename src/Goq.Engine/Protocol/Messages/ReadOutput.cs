namespace Goq.Protocol;

/// <summary>
/// Client → server: a job's output lines from line <paramref name="FromLine"/> on, at most <paramref name="MaxLines"/>.
/// <paramref name="FromOffset"/> is the previous page's NextOffset (where that line starts), or -1: with it the server
/// reads on from there, so paging through a large output costs its length once. With <paramref name="Records"/> the
/// lines come from a script-block job's records file instead of its text.
/// </summary>
public sealed record ReadOutput(long JobId, long FromLine, int MaxLines, long FromOffset = -1, bool Records = false) : ClientRequest;
