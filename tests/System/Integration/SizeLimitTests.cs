using System.Diagnostics;
using System.Text;
using Goq.Errors;
using Goq.Protocol;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>No size of job, list or output makes a message the socket refuses: each is refused at once, paged or split.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class SizeLimitTests : IDisposable
{
    private readonly Cluster _cluster = new();

    private JobSpec Spec(string command) => new() { Kind = JobKind.Shell, Command = command, WorkingDirectory = _cluster.Home.Path };

    [Fact]
    public async Task ARequestLargerThanAMessage_FailsAtOnce_WithMessageTooLarge_AndTheClientStaysUsable()
    {
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<GoqException>(() => _cluster.Client.SubmitAsync([Spec("echo " + new string('x', 10 * 1024 * 1024))]));
        Assert.Equal(GoqErrorIds.MessageTooLarge, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(FrameCodec.MaxMessageBytes.ToString("N0"), ex.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "refused before sending, not after a timeout");
        Assert.True(_cluster.Client.IsUsable);
        Assert.Empty((await _cluster.Client.GetJobsAsync(null, null)).Jobs);
    }

    [Fact]
    public async Task AJobOverTheJobLimit_InAMessageUnderTheMessageLimit_IsRefusedByTheServer()
    {
        // 5 MiB fits in a message but not in a dispatch with its environment: the server must not accept it.
        var ex = await Assert.ThrowsAsync<GoqException>(() => _cluster.Client.SubmitAsync([Spec("echo " + new string('y', 5 * 1024 * 1024))]));
        Assert.Equal(GoqErrorIds.MessageTooLarge, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(FrameCodec.MaxJobBytes.ToString("N0"), ex.Message, StringComparison.Ordinal); // the error names the limit
        Assert.Empty((await _cluster.Client.GetJobsAsync(null, null)).Jobs);
    }

    [Fact]
    public async Task RepliesLargerThanAMessage_TravelInParts_AndComeBackWhole()
    {
        // 1,000 jobs of 9 KB: each batch of 400 fits, but a page of all 1,000 (about 9 MB) does not fit in one message.
        var command = "echo " + new string('z', 9 * 1024);
        var ids = new List<long>();
        for (var batch = 0; batch < 1000; batch += 400)
        {
            ids.AddRange((await _cluster.Client.SubmitAsync(Enumerable.Range(0, Math.Min(400, 1000 - batch)).Select(_ => Spec(command)).ToList())).Select(j => j.Id));
        }

        var page = await _cluster.Client.GetJobsPageAsync(null, null, 0);
        Assert.Equal(ids, page.Jobs.Select(j => j.Id));
        Assert.All(page.Jobs, j => Assert.Equal(command, j.Command));
        Assert.Null(page.NextAfterId);

        var watched = new List<long>();
        Assert.False(await _cluster.Client.WaitAsync(ids, any: false, TimeSpan.FromMilliseconds(200), e => watched.Add(e.Id)));
        var cancelled = await _cluster.Client.CancelAsync(ids);
        Assert.Equal(ids, cancelled.Cancelled.Select(j => j.Id));
    }

    [Fact]
    public async Task JobLists_ArePaged_SoAnyNumberOfJobsCanBeListed()
    {
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            ids.AddRange((await _cluster.Client.SubmitAsync(Enumerable.Range(0, 10_000).Select(_ => Spec("true")).ToList())).Select(j => j.Id));
        }

        var first = await _cluster.Client.GetJobsPageAsync(null, null, 0);
        Assert.Equal(ids.Take(1000), first.Jobs.Select(j => j.Id));
        Assert.Equal(ids[999], first.NextAfterId);
        var all = await _cluster.Client.GetJobsAsync(null, [JobState.Waiting]);
        Assert.Equal(ids, all.Jobs.Select(j => j.Id));

        var some = await _cluster.Client.GetJobsAsync([ids[5], ids[59_999], 999_999], null);
        Assert.Equal([ids[5], ids[59_999]], some.Jobs.Select(j => j.Id));
        Assert.Equal([999_999L], some.Unknown);
    }

    [Fact]
    public async Task OutputPages_AreBoundedByBytes_AndALongLineComesBackAsPiecesThatJoinExactly()
    {
        _cluster.AddWorker(slots: 2);
        // 3,000 lines of 5 KB (15 MB: far more than one message) and one line of 20 MB in characters of 1 to 4 bytes,
        // so a piece boundary falls inside a character unless the worker cuts between characters.
        var wide = _cluster.RunAsync(Spec("awk 'BEGIN { s = sprintf(\"%5115s\", \"\"); gsub(/ /, \"w\", s); for (i = 1; i <= 3000; i++) printf \"%05d%s\\n\", i, s }'"));
        var unit = "aé€😀";
        var longLine = string.Concat(Enumerable.Repeat(unit, 20 * 1024 * 1024 / Encoding.UTF8.GetByteCount(unit)));
        var path = _cluster.Home.Combine("long.txt");
        await File.WriteAllTextAsync(path, longLine + "\nafter\n");
        var long_ = _cluster.RunAsync(Spec($"cat '{path}'"));

        var wideJob = await wide;
        Assert.Equal(JobState.Completed, wideJob.State);
        var lines = await _cluster.OutputAsync(wideJob.Id);
        Assert.Equal(3000, lines.Count);
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => i.ToString("D5")), lines.Select(l => l.Text[..5]));
        Assert.All(lines, l => Assert.Equal(5120, l.Text.Length));

        var longJob = await long_;
        Assert.Equal(JobState.Completed, longJob.State);
        var pieces = await _cluster.OutputAsync(longJob.Id);
        Assert.Equal("after", pieces[^1].Text);
        Assert.True(pieces.Count > 600, $"{pieces.Count} pieces");
        Assert.All(pieces, p => Assert.True(Encoding.UTF8.GetByteCount(p.Text) <= 32 * 1024));
        Assert.DoesNotContain(pieces, p => p.Text.Contains('\uFFFD'));
        Assert.Equal(longLine, string.Concat(pieces.SkipLast(1).Select(p => p.Text)));
    }

    public void Dispose() => _cluster.Dispose();
}
