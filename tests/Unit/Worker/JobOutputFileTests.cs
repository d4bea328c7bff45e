using System.Text;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Worker;

namespace Goq.Tests.Worker;

/// <summary>
/// The output file a worker on the server's host writes itself: the job's bytes as they came, whole lines of one
/// stream at a time, and the counts the server records (lines, where they end, which came from stderr).
/// </summary>
public sealed class JobOutputFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<string> _log = [];

    private string PathOf(string name) => _dir.Combine("o", name);

    private JobOutputFile Open(string path, long start = 0, bool continues = false, int maxLine = 32 * 1024) =>
        new(new OutputTarget(path, start, continues), maxLine, _log.Add);

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
    public void CutsALineLongerThanTheLimit_BetweenCharacters()
    {
        var path = PathOf("out.00003");
        using var file = Open(path, maxLine: 8);
        file.Write(OutputStream.Stdout, Encoding.UTF8.GetBytes("abcdefgé12\n")); // é is two bytes, at 7 and 8
        file.Sync(final: true);

        Assert.Equal("abcdefg\né12\n", File.ReadAllText(path));
        Assert.Equal([2L], file.Unacknowledged()!.Value.Runs);
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
    public void StartsAnAttemptOnALineOfItsOwn_AfterOneThatEndedWithoutANewline()
    {
        var path = PathOf("out.00007");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "first attempt, no newline");
        using var file = Open(path, start: 25, continues: true);
        file.Line(OutputStream.Stderr, "goq: second");
        file.Sync(final: true);

        Assert.Equal("first attempt, no newline\ngoq: second\n", File.ReadAllText(path));
        Assert.Equal([0L, 1], file.Unacknowledged()!.Value.Runs);
        Assert.Equal(new FileInfo(path).Length, file.Unacknowledged()!.Value.End);
    }

    public void Dispose() => _dir.Dispose();
}
