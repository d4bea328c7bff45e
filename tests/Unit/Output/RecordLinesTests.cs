using Goq.Output;

namespace Goq.Tests.Output;

/// <summary>Records travel and are stored as escaped lines, cut into pieces; joined again they are the same text.</summary>
public sealed class RecordLinesTests
{
    [Theory]
    [InlineData("<Objs><S>plain</S></Objs>")]
    [InlineData("line one\nline two\r\nback\\slash \\n not a newline")]
    [InlineData("")]
    [InlineData("emoji 😀 and ünïcödé")]
    public void ARecord_RoundTrips_AsOneLineWithoutNewlines(string xml)
    {
        var lines = RecordLines.Encode(RecordLines.Output, xml).ToList();
        Assert.Single(lines);
        Assert.DoesNotContain('\n', lines[0]);
        Assert.DoesNotContain('\r', lines[0]);
        Assert.Equal((RecordLines.Output, xml), new RecordAssembler().Add(lines[0]));
    }

    [Fact]
    public void ALargeRecord_IsCutIntoPieces_NeverInsideASurrogatePair_AndJoinedInOrder()
    {
        var xml = string.Concat(Enumerable.Repeat("ab😀\n\\", 1000));
        var lines = RecordLines.Encode(RecordLines.Error, xml, maxPieceChars: 7).ToList();
        Assert.True(lines.Count > 100);
        Assert.All(lines[..^1], line => Assert.Equal('+', line[1]));
        Assert.Equal('.', lines[^1][1]);
        var assembler = new RecordAssembler();
        var records = lines.Select(assembler.Add).Where(r => r is not null).ToList();
        Assert.Equal([(RecordLines.Error, xml)], records);
    }

    [Fact]
    public void RecordsOfEveryKind_ComeBackInOrder_AndMalformedLinesAreSkipped()
    {
        var assembler = new RecordAssembler();
        var lines = new[] { "o.<a/>", "garbage", "w+<b", "w.>x</b>", "x.unknown kind", "i.<i/>" };
        var records = lines.Select(assembler.Add).Where(r => r is not null).ToList();
        Assert.Equal([('o', "<a/>"), ('w', "<b>x</b>"), ('i', "<i/>")], records);
        Assert.Equal(2, assembler.Malformed);
    }

    [Fact]
    public void APieceOfAnotherKind_DropsTheUnfinishedRecord_RatherThanJoiningThem()
    {
        var assembler = new RecordAssembler();
        Assert.Null(assembler.Add("o+<half"));
        Assert.Null(assembler.Add("e.<other/>"));
        Assert.Equal(('o', "<whole/>"), assembler.Add("o.<whole/>"));
        Assert.Equal(1, assembler.Malformed);
    }
}
