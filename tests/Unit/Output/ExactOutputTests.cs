using System.IO.Pipes;
using System.Text;
using Goq.Output;
using Goq.Server;
using Goq.Tests.Support;
using Goq.Worker;
using Goq.Server.OutputStore;

namespace Goq.Tests.Output;

/// <summary>
/// A job's output file holds its bytes and nothing else, on both paths: the worker cuts what it reads from a pipe into
/// lines as every reader will (pieces of long lines, a stream's last bytes), with the bytes of any line that is not
/// UTF-8; the server writes those bytes back exactly and records a break where a line ended without a newline; readers
/// find the same lines in the bytes. Real pipes and real files.
/// </summary>
public sealed class ExactOutputTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<long, OutputIndex> _committed = [];
    private readonly Dictionary<long, OutputIndex> _staged = [];

    public void Dispose() => _dir.Dispose();

    private OutputFiles Files() => new(_dir.Path, "o", _ => { }, id => _committed.GetValueOrDefault(id),
        (job, index) => { _committed[job.Id] = index; return true; }, stagePlan: (id, index) => _staged[id] = index);

    private JobInfo Job(long id) => new() { Id = id, State = JobState.Running, WorkingDirectory = _dir.Path, Kind = JobKind.Shell };

    private static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    [Theory]
    [InlineData("abc\ndef", long.MaxValue, false, 4)] // a line and its newline
    [InlineData("abcdef", 3, false, 3)] // a break ends a line without a newline
    [InlineData("ab\ncdef", 5, false, 3)] // the newline comes first
    [InlineData("abcdef", long.MaxValue, false, 0)] // more bytes needed to know
    [InlineData("abcdef", 10, false, 0)] // a break past what is read: more needed
    [InlineData("abcdef", long.MaxValue, true, 6)] // the file ends: the rest is a line
    [InlineData("", long.MaxValue, true, 0)]
    public void Next_EndsALineAtANewline_ABreak_OrTheEnd(string data, long toBreak, bool atEnd, int length) =>
        Assert.Equal(length, LineCuts.Next(B(data), toBreak, atEnd));

    [Fact]
    public void Next_CutsALongLineAtTheLimit_BeforeAContinuationByte_AndKeepsALineOfExactlyTheLimitWhole()
    {
        var exactly = Enumerable.Repeat((byte)'x', LineCuts.MaxBytes).Append((byte)'\n').ToArray();
        Assert.Equal(LineCuts.MaxBytes + 1, LineCuts.Next(exactly, long.MaxValue, false));

        var longer = Enumerable.Repeat((byte)'x', LineCuts.MaxBytes + 1).Append((byte)'\n').ToArray();
        Assert.Equal(LineCuts.MaxBytes, LineCuts.Next(longer, long.MaxValue, false));

        // A three-byte character (€) whose last byte would be the first past the limit: the piece ends before it.
        var straddling = Encoding.UTF8.GetBytes(new string('x', LineCuts.MaxBytes - 2) + "€yyyy\n");
        Assert.Equal(LineCuts.MaxBytes - 2, LineCuts.Next(straddling, long.MaxValue, false));
        Assert.Equal(2, LineCuts.Count(straddling)); // two pieces
    }

    [Fact]
    public void ThePipeReader_PassesOnLinesWithTheirEndingsAndTheBytesThatAreNotUtf8()
    {
        var lines = Pump(B("a\u00FFb\0c\tx\r\nplain\nhalf"), B("-line\n"), B(new string('z', LineCuts.MaxBytes + 10) + "\nopen\r"));

        Assert.Equal(6, lines.Count);
        Assert.Equal(("a\uFFFDb\0c\tx", LineEnd.CrNewline), (lines[0].Text, lines[0].End));
        Assert.Equal(B("a\u00FFb\0c\tx"), lines[0].Raw);
        Assert.Equal(new OutputLine(OutputStream.Stdout, "plain"), lines[1]);
        Assert.Equal(new OutputLine(OutputStream.Stdout, "half-line"), lines[2]); // across two reads
        Assert.Equal((LineCuts.MaxBytes, LineEnd.Cut), (lines[3].Text.Length, lines[3].End));
        Assert.Equal(("zzzzzzzzzz", LineEnd.Newline), (lines[4].Text, lines[4].End));
        Assert.Equal(("open\rend", LineEnd.Open, (byte[]?)null), (lines[5].Text, lines[5].End, lines[5].Raw)); // the pipe's last bytes; a CR not before a newline is text
    }

    [Fact]
    public void TheServer_WritesTheBytesBack_AndReadsTheSameLinesFromThem()
    {
        var lines = Pump(B("a\u00FFb\0c\tx\r\n"), B(new string('z', LineCuts.MaxBytes + 10) + "\nno newline"));
        lines.Insert(1, new OutputLine(OutputStream.Stderr, "err")); // another stream's line between two of stdout
        using var files = Files();
        var job = Job(1);
        files.Append(job, 1, 0, lines);
        files.Append(job, 1, lines.Count, [new OutputLine(OutputStream.Stderr, "goq: a line of goq's own")]);
        files.SyncToDisk();

        byte[] expected = [.. B("a\u00FFb\0c\tx\r\n"), .. B("err\n"), .. B(new string('z', LineCuts.MaxBytes)), .. B("zzzzzzzzzz\nno newlineend"),
            .. B("goq: a line of goq's own\n")];
        Assert.Equal(expected, File.ReadAllBytes(job.OutputPath!));

        var page = files.Read(job, 0, -1, 100, 1 << 22);
        Assert.Equal(lines.Select(l => l.Text).Append("goq: a line of goq's own"), page.Lines.Select(l => l.Text));
        Assert.Equal(lines.Select(l => l.Stream).Append(OutputStream.Stderr), page.Lines.Select(l => l.Stream));

        // From any line, by its number alone (a skip from the start) or by the offset the page before gave.
        for (var from = 1; from < page.Lines.Count; from++)
        {
            var one = files.Read(job, from, -1, 1, 1 << 22);
            Assert.Equal(page.Lines[from].Text, Assert.Single(one.Lines).Text);
            var next = files.Read(job, from + 1, one.NextOffset, 1, 1 << 22);
            Assert.Equal(page.Lines.Skip(from + 1).Select(l => l.Text).FirstOrDefault(), next.Lines.Select(l => l.Text).FirstOrDefault());
        }

        var index = files.Close(job.Id)!;
        Assert.Equal([(long)expected.Length - 25], index.Breaks); // after the pipe's last bytes: the pieces of the long line need none
    }

    [Fact]
    public void ANewAttempt_StartsALineOfItsOwn_AfterOneLeftOpen_OnBothPaths()
    {
        using var files = Files();
        var job = Job(2);
        files.Append(job, 1, 0, [new OutputLine(OutputStream.Stdout, "killed mid-", End: LineEnd.Cut)]); // as if cut where the worker died
        files.Append(job, 2, 0, [new OutputLine(OutputStream.Stdout, "second")]);
        files.SyncToDisk();
        Assert.Equal("killed mid-second\n", File.ReadAllText(job.OutputPath!));
        Assert.Equal(["killed mid-", "second"], files.Read(job, 0, -1, 10, 1 << 20).Lines.Select(l => l.Text));

        // A worker on this host writes attempt 3 itself: the break is staged with its dispatch, and it writes right after.
        files.Prepare(job, 3);
        var target = files.Target(job, 3)!;
        File.AppendAllText(job.OutputPath!, "third, open");
        Assert.Equal([11L], _staged[2].Breaks); // where attempt 2 began: its first line is not the end of attempt 1's
        Assert.NotNull(files.Record(job, 3, 0, [1], target.Start + 11, [target.Start + 11]));
        Assert.Equal(["killed mid-", "second", "third, open"], files.Read(job, 0, -1, 10, 1 << 20).Lines.Select(l => l.Text));
        files.Append(job, 4, 0, [new OutputLine(OutputStream.Stdout, "fourth")]); // back through the server
        files.SyncToDisk();
        Assert.Equal("killed mid-second\nthird, openfourth\n", File.ReadAllText(job.OutputPath!));
        Assert.Equal(["killed mid-", "second", "third, open", "fourth"], files.Read(job, 0, -1, 10, 1 << 20).Lines.Select(l => l.Text));
    }

    /// <summary>Writes each chunk into a real pipe and reads it with the worker's pipe reader; then "end" and the pipe's end.</summary>
    private static List<OutputLine> Pump(params byte[][] chunks)
    {
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var readEnd = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        var lines = new List<OutputLine>();
        var reader = new PipeLineBuffer(OutputStream.Stdout, (int)readEnd.SafePipeHandle.DangerousGetHandle());
        var buffer = new byte[256 * 1024];
        foreach (var chunk in chunks.Append(B("end")))
        {
            writer.Write(chunk);
            writer.Flush();
            reader.ReadOnce(buffer, lines.Add);
        }

        writer.Dispose();
        writer.DisposeLocalCopyOfClientHandle();
        reader.ReadOnce(buffer, lines.Add);
        Assert.False(reader.Open);
        return lines;
    }
}
