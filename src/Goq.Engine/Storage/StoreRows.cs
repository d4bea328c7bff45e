namespace Goq.Storage;

/// <summary>Called for each stored waiting job with its id and record's bytes (valid during the call only).</summary>
public delegate void WaitingRow(long id, ReadOnlySpan<byte> info);

/// <summary>A page of jobs to read (see <see cref="IJobStore.Query"/>); <paramref name="Rows"/> -1 for all.</summary>
public sealed record PageQuery(IReadOnlyCollection<long>? Ids, IReadOnlyCollection<JobState>? States, long AfterId, long Rows, JobFilter? Filter, bool ToSend,
    long BeforeId = long.MaxValue, bool NewestFirst = false);

/// <summary>A job's (or an array's) record, spec and environment key as stored.</summary>
public readonly record struct StoredRow(string Info, string Spec, string? Env);

/// <summary>A batch id with its jobs, as stored (<paramref name="At"/> in Unix milliseconds).</summary>
public readonly record struct StoredBatch(string Id, long FirstId, int Count, long At);

/// <summary>A job or array row to write: its spec and environment only when it is new (else only its state and record change).</summary>
public readonly record struct JobRow(long Id, string State, string Info, string? Spec, string? Env);

/// <summary>Everything one commit writes, in one transaction.</summary>
public sealed class CommitSet
{
    /// <summary>Environments first stored by this commit, by key.</summary>
    public List<(string Key, string Json)> Environments { get; } = [];

    public List<JobRow> Jobs { get; } = [];

    public List<JobRow> Arrays { get; } = [];

    public List<(long Id, string Json)> Outputs { get; } = [];

    public List<StoredBatch> Batches { get; } = [];

    /// <summary>Meta rows whose value changed.</summary>
    public List<(string Key, string Value)> Meta { get; } = [];
}
