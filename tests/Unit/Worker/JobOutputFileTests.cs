using System.Text;
using Goq.Output;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.Tests.Worker;

/// <summary>
/// The output file a worker on the server's host writes itself: the job's bytes as they came (nothing added), whole
/// lines of one stream at a time, and the counts the server records (lines, where they end, which came from stderr,
/// where a line ended without a newline), which every reader must find again in the bytes.
/// </summary>
public sealed class JobOutputFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<string> _log = [];

    private string PathOf(string name) => _dir.Combine("o", name);

    private JobOutputFile Open(string path, long start = 0) => new(new OutputTarget(path, start), _log.Add);

    private static ReadOnlySpan<byte> B(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public void KeepsTheJobsBytesInterleavedByWholeLines_AndCountsThem()
    {
        var path = PathOf("out.00001");
        using var file = Open(path);

        Assert.True(file.Write(OutputStream.Stdout, B("a\r\nhal"))); // "hal" waits for the rest of its line
        Assert.True(file.Write(OutputStream.Stderr, B("x\xffy\n")));
        Assert.True(file.Write(OutputStream.Stdout, B("f\n")));
        Assert.True(file.End(OutputStream.Stderr));
        Assert.True(file.Write(OutputStream.Stdout, B("last")));
        Assert.True(file.End(OutputStream.Stdout));
        var synced = file.Sync(final: true);

        Assert.Equal(B("a\r\nx\xffy\nhalf\nlast").ToArray(), File.ReadAllBytes(path));
        Assert.Equal((4L, 16L), synced);
        var written = file.Unacknowledged()!.Value;
        Assert.Equal(0, written.FromLine);
        Assert.Equal([1L, 1, 2], written.Runs); // stdout 1, stderr 1, stdout 2 (the last without its newline)
        Assert.Equal(16, written.End);
        Assert.Equal([16L], written.Breaks); // the last line ends at a break
        Assert.Empty(_log);
    }

    [Fact]
    public void CountsOnlyWhatIsSynced_AndLetsGoOfWhatWasAcknowledged()
    {
        using var file = Open(PathOf("out.00002"));
        file.Write(OutputStream.Stdout, B("1\n2\n"));
        file.Sync(final: false);
        file.Write(OutputStream.Stderr, B("3\n"));

        Assert.Equal([2L], file.Unacknowledged()!.Value.Runs); // line 3 is written, not synced: not counted yet
        file.Sync(final: false);
        file.Acknowledged(2);

        var rest = file.Unacknowledged()!.Value;
        Assert.Equal((2L, 6L), (rest.FromLine, rest.End));
        Assert.Equal([0L, 1], rest.Runs);
        file.Acknowledged(3);
        Assert.Null(file.Unacknowledged());
    }

    [Fact]
    public void CountsALineLongerThanTheLimit_AsThePiecesAReaderCutsItInto_WithoutTouchingItsBytes()
    {
        var path = PathOf("out.00003");
        using var file = Open(path);
        // é (two bytes) straddles the limit: the piece ends before it. The line comes in two reads.
        var line = Encoding.UTF8.GetBytes(new string('a', LineCuts.MaxBytes - 1) + "é12" + new string('b', LineCuts.MaxBytes + 5) + "\n");
        file.Write(OutputStream.Stdout, line.AsSpan(0, 100));
        file.Write(OutputStream.Stdout, line.AsSpan(100));
        file.Write(OutputStream.Stderr, B("err"));
        file.End(OutputStream.Stderr);
        file.Line(OutputStream.Stderr, "goq: after");
        file.Sync(final: true);

        Assert.Equal([.. line, .. "errgoq: after\n"u8.ToArray()], File.ReadAllBytes(path));
        var written = file.Unacknowledged()!.Value;
        Assert.Equal([3L, 2], written.Runs); // pieces of MaxBytes-1, MaxBytes, and the rest; "err" and goq's line
        Assert.Equal([(long)line.Length + 3], written.Breaks);

        var (head, tail) = OutputFingerprint.Of(path, 0, written.End);
        var map = new OutputMapReply(3, path, 0, written.End, 5, written.Runs, head, tail, true, JobState.Completed, Breaks: written.Breaks);
        var read = LocalOutputReader.Open(map)!.Pages(100).SelectMany(p => p).ToList();
        Assert.Equal(
            [new string('a', LineCuts.MaxBytes - 1), "é12" + new string('b', LineCuts.MaxBytes - 4), "bbbbbbbbb", "err", "goq: after"],
            read.Select(l => l.Text));
        Assert.Equal([OutputStream.Stdout, OutputStream.Stdout, OutputStream.Stdout, OutputStream.Stderr, OutputStream.Stderr], read.Select(l => l.Stream));
    }

    [Fact]
    public void MakesNoFileForAJobThatWritesNothing()
    {
        var path = PathOf("out.00004");
        using var file = Open(path);
        Assert.True(file.End(OutputStream.Stdout));
        Assert.Null(file.Sync(final: true));
        Assert.False(File.Exists(path));
        Assert.Equal(0, file.Lines);
    }

    [Fact]
    public void LeavesAFileThatGrewSinceTheDispatch_AndSaysSo()
    {
        var path = PathOf("out.00005");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "another writer's line\n");
        using var file = Open(path, start: 0);

        Assert.False(file.Write(OutputStream.Stdout, B("mine\n")));
        Assert.False(file.Direct);
        Assert.False(file.Line(OutputStream.Stderr, "goq: a line of ours"));
        Assert.Equal("another writer's line\n", File.ReadAllText(path));
        Assert.Contains(_log, l => l.Contains("goes through the server", StringComparison.Ordinal));
    }

    [Fact]
    public void NeverFollowsALinkWhereTheOutputGoes()
    {
        var path = PathOf("out.00006");
        var target = _dir.Combine("elsewhere.txt");
        File.WriteAllText(target, "");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        using var file = Open(path, start: 0);

        Assert.False(file.Write(OutputStream.Stdout, B("x\n")));
        Assert.Equal("", File.ReadAllText(target));
    }

    [Fact]
    public void WritesAnAttemptRightAfterTheLastOne_AddingNothingBetween()
    {
        var path = PathOf("out.00007");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "first attempt, no newline");
        using var file = Open(path, start: 25);
        file.Line(OutputStream.Stderr, "goq: second");
        file.Sync(final: true);

        // The server put a break at byte 25 when it dispatched this attempt (OutputFilesTests): the file is only bytes.
        Assert.Equal("first attempt, no newlinegoq: second\n", File.ReadAllText(path));
        Assert.Equal([0L, 1], file.Unacknowledged()!.Value.Runs);
        Assert.Equal(new FileInfo(path).Length, file.Unacknowledged()!.Value.End);
    }

    public void Dispose() => _dir.Dispose();
}
