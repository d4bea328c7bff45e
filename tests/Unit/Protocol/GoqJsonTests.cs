using System.Collections;
using System.Text.Json;
using Goq.Protocol;

namespace Goq.Tests.Protocol;

/// <summary>
/// Job records leave out what a new record holds, and every field still comes back: set to something else it is
/// written and read back; left as it was it is not written, and reading gives it again.
/// </summary>
public sealed class GoqJsonTests
{
    [Fact]
    public void ANewJob_IsWrittenWithoutItsDefaults_AndReadsBackTheSame()
    {
        var job = new JobInfo { Id = 5, State = JobState.Completed, Command = "/bin/true", SubmittedAt = DateTimeOffset.UnixEpoch };
        var json = JsonSerializer.Serialize(job, GoqJson.JobInfo);
        foreach (var left in new[] { "Hold", "ArgumentList", "Queue", "SlotCount", "Require", "DependsOn", "History", "Priority", "Kind", "DependencyMode" })
        {
            Assert.DoesNotContain($"\"{left}\"", json);
        }

        Assert.Contains("\"State\":\"Completed\"", json);
        var back = JsonSerializer.Deserialize(json, GoqJson.JobInfo)!;
        Assert.Equal(JsonSerializer.Serialize(job, GoqJsonContext.Default.JobInfo), JsonSerializer.Serialize(back, GoqJsonContext.Default.JobInfo));
        Assert.True(json.Length < JsonSerializer.Serialize(job, GoqJsonContext.Default.JobInfo).Length * 2 / 3, json);
    }

    [Fact]
    public void EveryFieldOfAJobSetToAnotherValue_IsWrittenAndReadBack()
    {
        foreach (var property in typeof(JobInfo).GetProperties().Where(p => p.CanWrite && p.GetSetMethod() is not null))
        {
            var job = new JobInfo();
            var other = Other(property.PropertyType, property.GetValue(job));
            property.SetValue(job, other);
            var json = JsonSerializer.Serialize(job, GoqJson.JobInfo);
            Assert.Contains($"\"{property.Name}\"", json);
            Assert.Equal(Text(other), Text(property.GetValue(JsonSerializer.Deserialize(json, GoqJson.JobInfo))));
        }

        foreach (var property in typeof(JobSpec).GetProperties().Where(p => p.CanWrite && p.Name != "EqualityContract"))
        {
            var spec = new JobSpec();
            var other = Other(property.PropertyType, property.GetValue(spec));
            property.SetValue(spec, other);
            var json = JsonSerializer.Serialize(spec, GoqJson.JobSpec);
            Assert.Contains($"\"{property.Name}\"", json);
            Assert.Equal(Text(other), Text(property.GetValue(JsonSerializer.Deserialize(json, GoqJson.JobSpec))));
        }
    }

    [Fact]
    public void ASpec_LeavesOutOnlyWhatReadingGivesBack()
    {
        // A spec's fields are init-only: one left out reads back as default(T), not as the initializer's value.
        var spec = new JobSpec { Command = "x" };
        var json = JsonSerializer.Serialize(spec, GoqJson.JobSpec);
        foreach (var left in new[] { "Hold", "Priority", "Kind", "RetryCount", "DependencyMode" })
        {
            Assert.DoesNotContain($"\"{left}\"", json);
        }

        Assert.Contains("\"MaxAttempts\":3", json);
        Assert.Contains("\"Queue\":\"default\"", json);
        var back = JsonSerializer.Deserialize(json, GoqJson.JobSpec)!;
        Assert.Equal((JobSpec.DefaultMaxAttempts, 1, JobSpec.DefaultQueue, false, 0), (back.MaxAttempts, back.SlotCount, back.Queue, back.Hold, back.Priority));
        Assert.Equal(0, JsonSerializer.Deserialize(JsonSerializer.Serialize(spec with { MaxAttempts = 0 }, GoqJson.JobSpec), GoqJson.JobSpec)!.MaxAttempts);
    }

    [Fact]
    public void AJobInAMessage_IsWrittenWithoutItsDefaultsToo()
    {
        var envelope = new Envelope(Envelope.CurrentVersion, 1, "n", 1, new SubmitJobsReply([new JobInfo { Id = 1, Command = "true" }]), null);
        var json = JsonSerializer.Serialize(envelope, GoqJson.Envelope);
        Assert.DoesNotContain("\"Hold\"", json);
        var reply = Assert.IsType<SubmitJobsReply>(JsonSerializer.Deserialize(json, GoqJson.Envelope)!.Body);
        Assert.Equal((1L, "true", JobSpec.DefaultQueue, 1), (reply.Jobs[0].Id, reply.Jobs[0].Command, reply.Jobs[0].Queue, reply.Jobs[0].SlotCount));
    }

    [Fact]
    public void AListReply_DoesNotWriteItsItemCount()
    {
        var json = JsonSerializer.Serialize(new Envelope(Envelope.CurrentVersion, 1, "n", 1, new JobsReply([new JobInfo { Id = 1 }], [2]), null), GoqJson.Envelope);
        Assert.DoesNotContain("ItemCount", json);
        var reply = Assert.IsType<JobsReply>(JsonSerializer.Deserialize(json, GoqJson.Envelope)!.Body);
        Assert.Equal(2, reply.ItemCount);
    }

    private static string Text(object? value) => value is IEnumerable items and not string ? string.Join(",", items.Cast<object>().Select(i => i is JobAttempt a ? $"attempt {a.Attempt}" : $"{i}")) : $"{value}";

    /// <summary>A value of the type that differs from <paramref name="initial"/>.</summary>
    private static object Other(Type type, object? initial)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t switch
        {
            _ when t == typeof(string) => initial as string == "x" ? "y" : "x",
            _ when t == typeof(int) => (int?)initial == 7 ? 8 : 7,
            _ when t == typeof(long) => 7L,
            _ when t == typeof(bool) => !(bool?)initial ?? true,
            _ when t == typeof(DateTimeOffset) => DateTimeOffset.UnixEpoch.AddDays(1),
            _ when t == typeof(TimeSpan) => TimeSpan.FromSeconds(3),
            _ when t.IsEnum => Enum.GetValues(t).Cast<object>().First(v => !v.Equals(initial)),
            _ when t == typeof(string[]) || t == typeof(IReadOnlyList<string>) => new[] { "a" },
            _ when t == typeof(long[]) || t == typeof(IReadOnlyList<long>) => new[] { 3L },
            _ when t == typeof(IReadOnlyList<int>) => new[] { 1 },
            _ when t == typeof(JobAttempt[]) => new[] { new JobAttempt { Attempt = 1 } },
            _ when t == typeof(IReadOnlyDictionary<string, string>) => new Dictionary<string, string> { ["A"] = "1" },
            _ when t == typeof(ArrayTask) => new ArrayTask(2, 1, 3),
            _ => throw new InvalidOperationException($"no other value for {type} (add one here)"),
        };
    }
}
