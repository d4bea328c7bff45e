using System.Text.Json;
using Goq.Protocol;

namespace Goq.Tests.Protocol;

/// <summary>Lines travel as one joined string and stream runs; every form comes back exactly, and a malformed one is refused.</summary>
public sealed class OutputLinesConverterTests
{
    private static JobOutput RoundTrip(IReadOnlyList<OutputLine> lines, out string json)
    {
        json = JsonSerializer.Serialize(new JobOutput("w", 1, 1, lines), GoqJsonContext.Default.JobOutput);
        return JsonSerializer.Deserialize(json, GoqJsonContext.Default.JobOutput)!;
    }

    public static TheoryData<OutputLine[]> Cases => new()
    {
        Array.Empty<OutputLine>(),
        new[] { new OutputLine(OutputStream.Stdout, "") },
        new[] { new OutputLine(OutputStream.Stdout, "a"), new(OutputStream.Stdout, ""), new(OutputStream.Stderr, "é \"quoted\" \t"), new(OutputStream.Stdout, "b") },
        new[] { new OutputLine(OutputStream.Record, "<Obj>line one\nline two</Obj>"), new(OutputStream.Stderr, "x") },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryLineAndItsStream_ComesBackAsItWas(OutputLine[] lines)
    {
        var back = RoundTrip(lines, out var json);
        Assert.Equal(lines, back.Lines);
        Assert.DoesNotContain("\"Stream\"", json); // no object per line
    }

    [Theory]
    [InlineData("""{"j":"a\nb","r":[1,1]}""")]
    [InlineData("""{"j":"a","r":[9,1]}""")]
    [InlineData("""{"j":"a","r":[1,0]}""")]
    [InlineData("""{"a":["a",1],"r":[1,1]}""")]
    [InlineData("""{"j":"a","r":[1,"x"]}""")]
    [InlineData("""{"j":"a","q":1}""")]
    [InlineData("""["a"]""")]
    [InlineData("""{"r":[1,2]}""")]
    public void AMalformedForm_IsAJsonError(string lines)
    {
        var json = $$"""{"WorkerId":"w","JobId":1,"Attempt":1,"Lines":{{lines}}}""";
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, GoqJsonContext.Default.JobOutput));
    }
}
