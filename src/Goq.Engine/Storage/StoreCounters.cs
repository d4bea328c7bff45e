namespace Goq.Storage;

/// <summary>Server counters and settings kept with the jobs, so they survive restarts.</summary>
public sealed class StoreCounters
{
    /// <summary>Each queue's cap on its running jobs (Set-GoqQueue -ThrottleLimit); 0 or absent for none.</summary>
    public Dictionary<string, int> QueueLimits { get; } = new(StringComparer.Ordinal);

    /// <summary>The users of a multi-user cluster, by name, as JSON (<see cref="StoreCounterChanges.SaveUser"/>).</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Raised on every change of a setting above, so the next commit writes it even with no job changed.</summary>
    public int SettingsVersion { get; set; }

    public long FinishedJobs { get; set; }

    public long CancelledJobs { get; set; }

    public long DeadWorkerResubmits { get; set; }
}

/// <summary>The counters the scheduler counts (see <see cref="IJobStaging.Count"/>).</summary>
public enum StoreCounter
{
    FinishedJobs,
    CancelledJobs,
    DeadWorkerResubmits,
}

/// <summary>Changes to the counters, made by the store that owns them.</summary>
public static class StoreCounterChanges
{
    /// <summary>One more of <paramref name="counter"/>.</summary>
    public static void Count(this StoreCounters counters, StoreCounter counter)
    {
        switch (counter)
        {
            case StoreCounter.FinishedJobs: counters.FinishedJobs++; break;
            case StoreCounter.CancelledJobs: counters.CancelledJobs++; break;
            case StoreCounter.DeadWorkerResubmits: counters.DeadWorkerResubmits++; break;
            default: throw new ArgumentOutOfRangeException(nameof(counter), counter, null);
        }
    }

    /// <summary>Stages a user's record (a grant, a role, a revocation, when they were last seen); the settings change.</summary>
    public static void SaveUser(this StoreCounters counters, Identity.GoqUser user)
    {
        counters.Users[user.Name] = System.Text.Json.JsonSerializer.Serialize(user, Protocol.GoqJsonContext.Default.GoqUser);
        counters.SettingsVersion++;
    }

    /// <summary>The users as stored, each a record of the caller's own.</summary>
    public static IReadOnlyList<Identity.GoqUser> LoadUsers(this StoreCounters counters) =>
        [.. counters.Users.Values.Select(json => System.Text.Json.JsonSerializer.Deserialize(json, Protocol.GoqJsonContext.Default.GoqUser)!)];

    /// <summary>A queue's run limit (0: none, kept too so the store forgets the old cap); the settings change.</summary>
    public static void SetQueueLimit(this StoreCounters counters, string queue, int limit)
    {
        counters.QueueLimits[queue] = limit;
        counters.SettingsVersion++;
    }
}
