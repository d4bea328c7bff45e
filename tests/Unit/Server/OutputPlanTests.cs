using Goq.Server;
using Goq.Tests.Support;
using Goq.Server.OutputStore;

namespace Goq.Tests.Server;

/// <summary>
/// A job's output is placed when it is dispatched: where its lines start is staged with the dispatch (so committed
/// before any of them can be written), and the file is made at its first line, with no commit of its own.
/// </summary>
public sealed class OutputPlanTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<long, OutputIndex> _committed = [];
    private readonly Dictionary<long, OutputIndex> _staged = [];
    private readonly List<long> _recordedAtOnce = [];

    public void Dispose() => _dir.Dispose();

    private OutputFiles Files() => new(_dir.Path, "o", _ => { }, id => _committed.GetValueOrDefault(id),
        (job, index) => { _recordedAtOnce.Add(job.Id); _committed[job.Id] = index; return true; }, stagePlan: (id, index) => _staged[id] = index);

    private JobInfo Job(long id, JobKind kind = JobKind.Shell) => new() { Id = id, State = JobState.Running, WorkingDirectory = _dir.Path, Kind = kind };

    private static List<OutputLine> Lines(params string[] texts) => texts.Select(t => new OutputLine(OutputStream.Stdout, t)).ToList();

    private string PathOf(long id) => _dir.Combine("o", OutputFiles.FileName(id));

    [Fact]
    public void APlannedFile_IsMadeAtItsFirstLine_WithNoCommitOfItsOwn()
    {
        using var files = Files();
        var job = Job(1, JobKind.ScriptBlock);
        files.Plan(job);
        var plan = _staged[1];
        Assert.Equal((PathOf(1), 0L, 0L), (plan.Path, plan.StartOffset, plan.Lines));
        Assert.NotNull(plan.Records);
        Assert.False(Directory.Exists(_dir.Combine("o"))); // nothing made yet
        Assert.Null(job.OutputPath);

        files.Append(job, 1, 0, [new(OutputStream.Stdout, "one"), new(OutputStream.Record, "o.<S>one</S>")]);
        files.SyncToDisk();
        Assert.Empty(_recordedAtOnce);
        Assert.Equal(PathOf(1), job.OutputPath);
        Assert.Equal(["one"], File.ReadAllLines(PathOf(1)));
        Assert.Equal(["o.<S>one</S>"], File.ReadAllLines(PathOf(1) + ".records"));
    }

    [Fact]
    public void APlanForAFileThatExists_StartsAfterWhatItHolds_AsGoqAppends()
    {
        Directory.CreateDirectory(_dir.Combine("o"));
        File.WriteAllText(PathOf(2), "old\n");
        using var files = Files();
        var job = Job(2);
        files.Plan(job);
        Assert.Equal(4, _staged[2].StartOffset);
        files.Append(job, 1, 0, Lines("new"));
        files.SyncToDisk();
        Assert.Equal(["old", "new"], File.ReadAllLines(PathOf(2)));
        Assert.Equal(["new"], files.Read(job, 0, -1, 10, 1 << 20).Lines.Select(l => l.Text));
    }

    [Fact]
    public void AfterACrash_APlannedJobsFile_IsCutToWhereItsLinesStart()
    {
        var job = Job(3);
        using (var before = Files())
        {
            before.Plan(job);
            _committed[3] = _staged[3]; // committed with the dispatch
            before.Append(job, 1, 0, Lines("never acknowledged"));
            before.SyncToDisk(); // written, but the server died before the commit that counts it
        }

        var restarted = Job(3); // as the store has it: no output path was committed
        using var after = Files();
        after.Append(restarted, 1, 0, Lines("sent again"));
        after.SyncToDisk();
        Assert.Equal(["sent again"], File.ReadAllLines(PathOf(3)));
        Assert.Empty(_recordedAtOnce);
    }

    [Fact]
    public void APlanThatNoLongerHolds_IsPlacedAnew_WithWhereItStartsRecordedAtOnce()
    {
        using var files = Files();
        var job = Job(4);
        files.Plan(job);
        Directory.CreateDirectory(_dir.Combine("o"));
        File.WriteAllText(PathOf(4), "intruder\n"); // another process wrote there meanwhile
        files.Append(job, 1, 0, Lines("mine"));
        files.SyncToDisk();
        Assert.Equal([4L], _recordedAtOnce);
        Assert.Equal(9, _committed[4].StartOffset);
        Assert.Equal(["mine"], files.Read(job, 0, -1, 10, 1 << 20).Lines.Select(l => l.Text));
    }

    [Fact]
    public void APlannedJob_HasNothingToReadOrMap_UntilItWrites_AndItsPlanGoesWhenItEndsWithoutALine()
    {
        using var files = Files();
        var job = Job(5);
        files.Plan(job);
        Assert.Empty(files.Read(job, 0, -1, 10, 1 << 20).Lines);
        Assert.Null(files.Map(job));
        Assert.Equal(0, files.AttemptLines(job, 1));

        files.ForgetPlans(_ => true);
        files.ForgetPlans(id => id != 5); // it ended without a line
        job.State = JobState.Completed;
        Assert.Null(files.Map(job));
        Assert.False(File.Exists(PathOf(5)));
    }
}
