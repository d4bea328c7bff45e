using Goq.Client;
using Goq.Errors;
using Goq.Protocol;

namespace Goq.Tests.Client;

/// <summary>
/// The size rule of a submit: a batch never exceeds a message, a job that never could is refused alone, and jobs keep
/// their order across batches.
/// </summary>
public sealed class SubmitBatcherTests
{
    private static readonly TimeSpan Start = TimeSpan.FromHours(1);

    private static readonly IReadOnlyDictionary<string, string> Shared = new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = "/home/someone",
    };

    private static JobSpec Shell(string command) => new() { Kind = JobKind.Shell, Command = command, CapturedEnvironment = Shared };

    // A script-block job: its data counts against a message but not against exec's limits, and control characters are
    // what JSON escapes longest (\u0001, six bytes), so its JSON is as large as the bound says a job can be.
    private static JobSpec Script(int dataChars, int id) =>
        new() { Kind = JobKind.ScriptBlock, Command = $"job {id}", ScriptData = new string('\u0001', dataChars), CapturedEnvironment = Shared };

    /// <summary>Every job added, through batches full or taken at the end, in the order they came out.</summary>
    private static List<IReadOnlyList<JobSpec>> Batch(SubmitBatcher batcher, IEnumerable<JobSpec> jobs)
    {
        var batches = new List<IReadOnlyList<JobSpec>>();
        foreach (var job in jobs)
        {
            if (batcher.Add(job, Start) is { } full)
            {
                batches.Add(full);
            }
        }

        batches.Add(batcher.Take());
        return batches;
    }

    /// <summary>The message <see cref="GoqClient.SubmitAsync"/> sends for a batch whose jobs share one environment.</summary>
    private static byte[] Message(IReadOnlyList<JobSpec> batch) =>
        FrameCodec.Encode(new SubmitJobs(batch.Select(j => j with { CapturedEnvironment = null }).ToList(), Shared, RetryingSubmitter.NewBatchId()), rid: 1);

    [Fact]
    public void Batches_NeverExceedAMessage_AsSent_WhenJobsAreAsLargeAsTheirBound()
    {
        // 30 jobs of about 1.2 MB of JSON each: a message holds six of them.
        var jobs = Enumerable.Range(1, 30).Select(i => Script(200_000, i)).ToList();

        var batches = Batch(new SubmitBatcher(Shared), jobs);

        Assert.True(batches.Count > 1);
        Assert.All(batches, b => Assert.True(Message(b).Length <= FrameCodec.MaxMessageBytes, $"a batch of {b.Count} jobs takes {Message(b).Length:N0} bytes"));
        Assert.All(batches.SkipLast(1), b => Assert.True(Message(b).Length > FrameCodec.MaxMessageBytes / 2, "a batch is sent full, not after every job"));
        Assert.Equal(jobs, batches.SelectMany(b => b));
    }

    [Fact]
    public void Batches_KeepEveryJobInOrder_AndStayUnderTheLimit_ForJobsOfEverySize()
    {
        var random = new Random(27);
        var jobs = Enumerable.Range(1, 2000).Select(i => Shell($"echo {i} " + new string('x', random.Next(0, 3000)))).ToList();
        const long limit = 256 * 1024;

        var batches = Batch(new SubmitBatcher(Shared, limit, SubmitBatcher.MaxJobs), jobs);

        var shared = JobSizes.UpperBound(Shared);
        Assert.All(batches, b => Assert.NotEmpty(b));
        Assert.All(batches, b => Assert.True(shared + b.Sum(JobSizes.UpperBound) <= limit));
        Assert.Equal(jobs, batches.SelectMany(b => b));
    }

    [Fact]
    public void Add_ReturnsTheBatchSoFar_WhenTheNextJobWouldNotFitBesideIt()
    {
        var job = Shell("echo " + new string('x', 1000));
        var limit = JobSizes.UpperBound(Shared) + (2 * JobSizes.UpperBound(job)); // room for two such jobs
        var batcher = new SubmitBatcher(Shared, limit, SubmitBatcher.MaxJobs);

        Assert.Null(batcher.Add(job, Start));
        Assert.Null(batcher.Add(job, Start));
        var full = batcher.Add(job with { Name = "third" }, Start);

        Assert.Equal(2, full!.Count);
        Assert.Equal("third", Assert.Single(batcher.Take()).Name);
    }

    [Fact]
    public void Add_StartsANewBatch_AfterMaxJobs()
    {
        var batcher = new SubmitBatcher(Shared);
        for (var i = 0; i < SubmitBatcher.MaxJobs; i++)
        {
            Assert.Null(batcher.Add(Shell($"echo {i}"), Start));
        }

        Assert.True(batcher.IsDue(Start), "a full batch is due at once");
        var full = batcher.Add(Shell("echo next"), Start);

        Assert.Equal(SubmitBatcher.MaxJobs, full!.Count);
        Assert.Equal(1, batcher.Count);
    }

    [Fact]
    public void AJobLargerThanAMessageMayCarry_IsRefusedAlone_AndTheBatchGoesOn()
    {
        var batcher = new SubmitBatcher(Shared);
        Assert.Null(batcher.Add(Shell("echo before"), Start));

        var huge = new JobSpec { Kind = JobKind.ScriptBlock, Command = "big " + new string('y', 200), ScriptData = new string('z', 5 * 1024 * 1024), CapturedEnvironment = Shared };
        var ex = Assert.Throws<GoqException>(() => batcher.Add(huge, Start));

        Assert.Equal(GoqErrorIds.MessageTooLarge, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(FrameCodec.MaxJobBytes.ToString("N0"), ex.Message, StringComparison.Ordinal);
        Assert.Equal(huge.Command[..80] + "...", ex.Target);
        Assert.Null(batcher.Add(Shell("echo after"), Start));
        Assert.Equal(["echo before", "echo after"], batcher.Take().Select(j => j.Command));
    }

    [Fact]
    public void TheSharedEnvironment_CountsAgainstEachJob()
    {
        // 3 MB of environment and a 1.5 MB job: each fits in a job alone, not together.
        var environment = new Dictionary<string, string> { ["BIG"] = new string('e', 3 * 1024 * 1024) };
        var job = new JobSpec { Kind = JobKind.ScriptBlock, Command = "small", ScriptData = new string('d', 1536 * 1024), CapturedEnvironment = environment };

        Assert.Null(new SubmitBatcher(null).Add(job with { CapturedEnvironment = null }, Start));
        var ex = Assert.Throws<GoqException>(() => new SubmitBatcher(environment).Add(job, Start));
        Assert.Equal(GoqErrorIds.MessageTooLarge, ex.ErrorId);
    }

    [Fact]
    public void AJobExecWouldRefuse_IsRefusedAlone_WithArgumentListTooLong()
    {
        var batcher = new SubmitBatcher(Shared);
        var ex = Assert.Throws<GoqException>(() => batcher.Add(Shell("echo " + new string('a', 200 * 1024)), Start));

        Assert.Equal(GoqErrorIds.ArgumentListTooLong, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("the job cannot start: its command line takes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, batcher.Count);
    }

    [Fact]
    public void IsDue_OnceTheFirstJobHasWaitedMaxAge_AndNeverWhenEmpty()
    {
        var batcher = new SubmitBatcher(Shared);
        Assert.False(batcher.IsDue(Start + TimeSpan.FromDays(1)));

        Assert.Null(batcher.Add(Shell("echo first"), Start));
        Assert.Null(batcher.Add(Shell("echo second"), Start + SubmitBatcher.MaxAge));
        Assert.False(batcher.IsDue(Start + SubmitBatcher.MaxAge));
        Assert.True(batcher.IsDue(Start + SubmitBatcher.MaxAge + TimeSpan.FromMilliseconds(1)), "the first job's age counts, not the last's");

        Assert.Equal(2, batcher.Take().Count);
        Assert.False(batcher.IsDue(Start + TimeSpan.FromDays(1)));
        Assert.Null(batcher.Add(Shell("echo third"), Start + TimeSpan.FromDays(1)));
        Assert.False(batcher.IsDue(Start + TimeSpan.FromDays(1)), "a new batch's age starts with its first job");
    }
}
