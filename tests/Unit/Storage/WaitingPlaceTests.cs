using System.Text;
using System.Text.Json;
using Goq.Protocol;
using Goq.Storage;

namespace Goq.Tests.Storage;

/// <summary>A place read from a stored record's bytes agrees with the record, and only plain waiting jobs have one.</summary>
public sealed class WaitingPlaceTests
{
    private static byte[] Stored(JobInfo job) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(job, GoqJson.JobInfo));

    private static JobInfo Waiting() => new()
    {
        Id = 7,
        State = JobState.Waiting,
        Command = "echo \"Priority\": 99, \"Queue\": \"x\"", // field names inside values must not fool the reader
        Priority = -3,
        Queue = "gpu-long",
        SlotCount = 4,
        Require = ["gpu", "ssd"],
        History = [new JobAttempt { Attempt = 1, State = JobState.Failed, Reason = "lost with its worker" }],
        Attempts = 1,
    };

    [Fact]
    public void APlainWaitingJob_ReadsAsItsPlace_WithOneStringPerQueueName()
    {
        var names = new Dictionary<string, string>();
        var place = WaitingPlace.Read(7, Stored(Waiting()), names)!.Value;
        Assert.Equal((7L, -3, "gpu-long", 4), (place.Id, place.Priority, place.Queue, place.SlotCount));
        Assert.Equal(["gpu", "ssd"], place.Require);
        var again = WaitingPlace.Read(8, Stored(Waiting()), names)!.Value;
        Assert.Same(place.Queue, again.Queue);

        var plain = WaitingPlace.Read(9, Stored(new JobInfo { Id = 9, State = JobState.Waiting, Command = "true" }), names)!.Value;
        Assert.Equal((0, JobSpec.DefaultQueue, 1), (plain.Priority, plain.Queue, plain.SlotCount));
        Assert.Empty(plain.Require);
    }

    [Fact]
    public void ARecordWithEveryFieldWritten_AsAnOlderStoreHasThem_ReadsTheSame()
    {
        var names = new Dictionary<string, string>();
        var full = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new JobInfo { Id = 9, State = JobState.Waiting, Command = "true" }, GoqJsonContext.Default.JobInfo));
        Assert.Contains("\"Hold\":false", Encoding.UTF8.GetString(full));
        var plain = WaitingPlace.Read(9, full, names)!.Value;
        Assert.Equal((0, JobSpec.DefaultQueue, 1), (plain.Priority, plain.Queue, plain.SlotCount));
        Assert.Null(WaitingPlace.Read(9, Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(full).Replace("\"Hold\":false", "\"Hold\":true")), names));
    }

    [Fact]
    public void AJobThatWaitsForMoreThanASlot_HasNoPlace()
    {
        var names = new Dictionary<string, string>();
        Assert.Null(WaitingPlace.Read(7, Stored(Waiting().With(j => j.Hold = true)), names));
        Assert.Null(WaitingPlace.Read(7, Stored(Waiting().With(j => j.DependsOn = [3])), names));
        Assert.Null(WaitingPlace.Read(7, Stored(Waiting().With(j => j.NotBefore = DateTimeOffset.UnixEpoch)), names));
        Assert.Null(WaitingPlace.Read(7, Stored(Waiting().With(j => j.ArrayJobId = 2)), names));
        Assert.Null(WaitingPlace.Read(7, Stored(Waiting().With(j => j.State = JobState.Held)), names));
        Assert.NotNull(WaitingPlace.Read(7, Stored(Waiting().With(j => j.DependsOn = [])), names));
    }
}

internal static class JobInfoTestExtensions
{
    public static JobInfo With(this JobInfo job, Action<JobInfo> change)
    {
        change(job);
        return job;
    }
}
