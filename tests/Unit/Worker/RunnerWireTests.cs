using Goq.Worker;

namespace Goq.Tests.Worker;

/// <summary>The worker-runner channel: frames round-trip; a frame too large or cut short is refused, not trusted.</summary>
public sealed class RunnerWireTests
{
    [Fact]
    public async Task Frames_RoundTrip_InOrder()
    {
        var job = new RunnerJob(7, 2, "'hi'", "<Objs/>", 3, "/tmp", new Dictionary<string, string> { ["A"] = "1" }, 1024);
        var stream = new MemoryStream();
        stream.Write(RunnerWire.Encode(RunnerFrame.Ready, []));
        stream.Write(RunnerWire.Job(job));
        stream.Write(RunnerWire.Line(OutputStream.Record, "o.<S>ü</S>"));
        stream.Write(RunnerWire.End(new RunnerEnd(JobState.Failed, 3, "exit code 3")));
        stream.Position = 0;

        Assert.Equal(RunnerFrame.Ready, (await RunnerWire.ReadAsync(stream))!.Value.Kind);
        var read = RunnerWire.Read(stream)!.Value;
        Assert.Equal(RunnerFrame.Job, read.Kind);
        var back = RunnerWire.ReadJob(read.Payload);
        Assert.Equal(job with { Environment = back.Environment }, back);
        Assert.Equal("1", back.Environment["A"]);
        var line = (await RunnerWire.ReadAsync(stream))!.Value;
        Assert.Equal(new OutputLine(OutputStream.Record, "o.<S>ü</S>"), RunnerWire.ReadLine(line.Payload));
        var end = (await RunnerWire.ReadAsync(stream))!.Value;
        Assert.Equal(new RunnerEnd(JobState.Failed, 3, "exit code 3"), RunnerWire.ReadEnd(end.Payload));
        Assert.Null(await RunnerWire.ReadAsync(stream)); // the end of the channel
    }

    [Fact]
    public async Task AnOversizeOrCutFrame_IsRefused()
    {
        var huge = new MemoryStream([0xff, 0xff, 0xff, 0x7f, (byte)'L']);
        await Assert.ThrowsAsync<InvalidDataException>(() => RunnerWire.ReadAsync(huge));
        var frame = RunnerWire.Line(OutputStream.Stdout, "cut short");
        var cut = new MemoryStream(frame[..^3]);
        await Assert.ThrowsAsync<EndOfStreamException>(() => RunnerWire.ReadAsync(cut));
        Assert.Throws<InvalidDataException>(() => RunnerWire.ReadLine([9, 65]));
    }
}
