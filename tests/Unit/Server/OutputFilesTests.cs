using Goq.Server;
using Goq.Tests.Support;
using Goq.Server.OutputStore;

namespace Goq.Tests.Server;

/// <summary>
/// Output lines are on disk before the commit that acknowledges them: each turn syncs the files written to (and the
/// folders of files it created), a job that ends in the same turn is synced with them before its file closes, and
/// nothing else is.
/// Real files; the hook only reports the fsyncs that were done.
/// </summary>
public sealed class OutputFilesTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<string> _synced = [];
    private readonly Dictionary<long, OutputIndex> _indexes = [];
    private readonly OutputFiles _files;

    public OutputFilesTests()
    {
        _files = new OutputFiles(_dir.Path, "o", _ => { }, id => _indexes.GetValueOrDefault(id),
            (job, index) => { _indexes[job.Id] = index; return true; }, _synced.Add);
    }

    public void Dispose()
    {
        _files.Dispose();
        _dir.Dispose();
    }

    private JobInfo Job(long id) => new() { Id = id, State = JobState.Running, WorkingDirectory = _dir.Path };

    private static List<OutputLine> Lines(params string[] texts) => texts.Select(t => new OutputLine(OutputStream.Stdout, t)).ToList();

    [Fact]
    public void SyncToDisk_SyncsTheFilesWrittenThisTurn_AndTheFoldersOfNewOnes_Once()
    {
        var (one, two) = (Job(1), Job(2));
        _files.Append(one, 1, 0, Lines("a", "b"));
        _files.Append(two, 1, 0, Lines("c"));
        _files.Append(one, 1, 2, Lines("d"));
        Assert.Empty(_synced); // nothing is synced line by line: once per turn

        _files.SyncToDisk();
        var folder = _dir.Combine("o");
        // The two files, the output folder (new names in it) and its parent (the folder itself is new).
        Assert.Equal(new[] { one.OutputPath!, two.OutputPath!, folder, _dir.Path }.Order(), _synced.Order());
        Assert.Equal(["a", "b", "d"], File.ReadAllLines(one.OutputPath!));

        _synced.Clear();
        _files.SyncToDisk();
        Assert.Empty(_synced); // nothing written since

        _files.Append(two, 1, 1, Lines("e"));
        _files.SyncToDisk();
        Assert.Equal([two.OutputPath!], _synced); // an existing file: no folder sync
    }

    [Fact]
    public void AFileClosedInTheTurnItWasWritten_IsSyncedWithTheTurn_ThenClosed()
    {
        var job = Job(3);
        _files.Append(job, 1, 0, Lines("last words"));
        _files.SyncToDisk();
        _synced.Clear();

        _files.Append(job, 1, 1, Lines("more"));
        Assert.NotNull(_files.Close(job.Id));
        Assert.Empty(_synced); // synced with the turn's other files, not on its own

        _files.SyncToDisk();
        Assert.Equal([job.OutputPath!], _synced);
        _synced.Clear();
        _files.SyncToDisk();
        Assert.Empty(_synced);
        Assert.Equal(["last words", "more"], File.ReadAllLines(job.OutputPath!));

        var later = Job(4); // a job that wrote nothing this turn is closed at once, with nothing to sync
        _files.Append(later, 1, 0, Lines("x"));
        _files.SyncToDisk();
        _synced.Clear();
        Assert.NotNull(_files.Close(later.Id));
        _files.SyncToDisk();
        Assert.Empty(_synced);
    }

    [Fact]
    public void AScriptBlockJob_KeepsItsRecordsInAFileOfTheirOwn_CountedWithItsTextAsOneSequence()
    {
        var job = Job(3);
        job.Kind = JobKind.ScriptBlock;
        var mixed = new List<OutputLine>
        {
            new(OutputStream.Record, "o.<S>one</S>"),
            new(OutputStream.Stdout, "one"),
            new(OutputStream.Record, "e.<S>bad</S>"),
            new(OutputStream.Stderr, "bad"),
        };
        var index = _files.Append(job, 1, 0, mixed)!;
        // A worker sending the last two lines again and one more: only the new one is written.
        _files.Append(job, 1, 2, [mixed[2], mixed[3], new(OutputStream.Record, "o.<S>two</S>")]);
        _files.SyncToDisk();

        var records = job.OutputPath + ".records";
        Assert.Equal(["one", "bad"], File.ReadAllLines(job.OutputPath!));
        Assert.Equal(["o.<S>one</S>", "e.<S>bad</S>", "o.<S>two</S>"], File.ReadAllLines(records));
        Assert.Contains(records, _synced); // records are acknowledged on disk, like text
        Assert.Equal(5, _files.AttemptLines(job, 1));
        Assert.Equal(2, _files.LineCount(job));
        Assert.Equal(3, _files.LineCount(job, records: true));
        Assert.NotNull(index.Records);

        var page = _files.Read(job, 0, -1, 10, 1 << 20, records: true);
        Assert.Equal(["o.<S>one</S>", "e.<S>bad</S>", "o.<S>two</S>"], page.Lines.Select(l => l.Text));
        var text = _files.Read(job, 0, -1, 10, 1 << 20);
        Assert.Equal([OutputStream.Stdout, OutputStream.Stderr], text.Lines.Select(l => l.Stream));

        // After the job ends (and after a restart) both are found again from the stored index.
        job.State = JobState.Completed;
        _indexes[job.Id] = _files.Close(job.Id)!;
        using var reopened = new OutputFiles(_dir.Path, "o", _ => { }, id => _indexes.GetValueOrDefault(id), (_, _) => true);
        Assert.Equal(3, reopened.LineCount(job, records: true));
        Assert.Equal(records, reopened.Map(job, records: true)!.Value.Path);
    }

    [Fact]
    public void ACommandJob_HasNoRecordsFile()
    {
        var job = Job(4);
        _files.Append(job, 1, 0, Lines("text"));
        Assert.Null(_files.LineCount(job, records: true));
        Assert.False(File.Exists(job.OutputPath + ".records"));
    }
}
