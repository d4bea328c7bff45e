using Goq.Protocol;

namespace Goq.Output;

/// <summary>
/// Reads a job's output straight from its file when this host sees the very file the server wrote (the job's working
/// directory is usually on a shared file system, or this is the server's host): the lines never cross the network or
/// the encryption, so reading goes at the speed of the disk. The server says which part of the file is the job's and
/// which lines came from stderr; the file's first and last 4 KiB must hash as the server's do, so another file of the
/// same name on this host is never taken for it.
/// </summary>
public sealed class LocalOutputReader
{
    private const long MaxPageBytes = long.MaxValue;
    private readonly OutputMapReply _map;
    private readonly List<(OutputStream Stream, long Count)> _runs;

    private LocalOutputReader(OutputMapReply map)
    {
        _map = map;
        _runs = StreamRuns.FromAlternating(map.StderrRuns);
    }

    /// <summary>A reader for the map's file, or null when this host does not see that file (then ask the server for pages).</summary>
    public static LocalOutputReader? Open(OutputMapReply map)
    {
        try
        {
            if (map.Path is null || !File.Exists(map.Path) || new FileInfo(map.Path).Length < map.StartOffset + map.Bytes)
            {
                return null;
            }

            var (head, tail) = map.Bytes == 0 ? ("", "") : OutputFingerprint.Of(map.Path, map.StartOffset, map.Bytes);
            return map.Bytes == 0 || (head == map.Head && tail == map.Tail) ? new LocalOutputReader(map) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The recorded part of the file as it is, byte for byte (both streams interleaved as written; for a job whose
    /// worker wrote the file, the job's exact bytes), in chunks of at most <paramref name="chunkBytes"/>.
    /// </summary>
    public IEnumerable<byte[]> Bytes(int chunkBytes)
    {
        using var file = new FileStream(_map.Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        file.Position = _map.StartOffset;
        for (var left = _map.Bytes; left > 0;)
        {
            var chunk = new byte[(int)Math.Min(left, chunkBytes)];
            var read = file.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                yield break; // the file ends early (cut since)
            }

            left -= read;
            yield return read == chunk.Length ? chunk : chunk[..read];
        }
    }

    /// <summary>The recorded lines, page by page of at most <paramref name="linesPerPage"/>, in order.</summary>
    public IEnumerable<IReadOnlyList<OutputLine>> Pages(int linesPerPage)
    {
        long line = 0, offset = 0;
        var streams = StreamRuns.At(_runs, 0);
        while (line < _map.Lines)
        {
            var page = OutputPageReader.Read(_map.Path!, _map.StartOffset + offset, line, _map.Lines, linesPerPage, MaxPageBytes, streams, new LineBreaks(_map.Breaks, _map.StartOffset));
            if (page.Lines.Count == 0)
            {
                yield break; // the file ends early (cut since): nothing more to read here
            }

            offset = page.NextOffset - _map.StartOffset;
            line = page.NextLine;
            yield return page.Lines;
        }
    }
}
