using System.Text;
using Npgsql;

namespace Goq.Storage.Postgres;

/// <summary>
/// The store on PostgreSQL, for several servers (one active) or a database the site already runs. Staging, merging and
/// the group commit are <see cref="StagedJobStore"/>'s; this type reads and writes the rows. A commit is one round
/// trip: every change goes as arrays (<c>unnest</c>) in one batch of statements, in one transaction, durable when
/// PostgreSQL says so (synchronous_commit). With an <paramref name="epoch"/>, every commit first checks in the same
/// transaction that the lease still carries it (fencing): a server another has taken over from never commits again
/// (<see cref="StoreFencedException"/>), however long it was paused.
/// Owned by the server's scheduler thread; it takes a pooled connection per operation, so a connection the database
/// dropped is replaced on the next one.
/// </summary>
public sealed class PostgresJobStore : StagedJobStore
{
    private readonly PostgresDatabase _db;
    private readonly long? _epoch;
    private bool _fenced;

    public PostgresJobStore(PostgresDatabase db, long? epoch = null)
    {
        _db = db;
        _epoch = epoch;
        LoadMeta();
    }

    /// <summary>The epoch this store commits under (see <see cref="PostgresLease"/>); null: unfenced (tests, tools).</summary>
    public long? Epoch => _epoch;

    public override IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded()
    {
        using var connection = _db.Connect();
        return CountEnded(connection, null);
    }

    public override IJobReader? OpenReader() => new PostgresJobReader(_db);

    /// <summary>
    /// Commits what is staged, unless this store was fenced (its server stepped down) or the database cannot be
    /// reached: nothing staged was acknowledged (acknowledgements follow commits), and the server that serves next
    /// loads the queue from what was committed.
    /// </summary>
    public override void Dispose()
    {
        if (_fenced)
        {
            return;
        }

        try
        {
            Commit();
        }
        catch (Exception ex) when (ex is StoreFencedException || PostgresDatabase.Unavailable(ex, _db.Description) is not null
                                   || ex is Errors.GoqException { ErrorId: Errors.GoqErrorIds.StoreUnavailable })
        {
        }
    }

    /// <summary>The stored rows of a page, by id: shared by the store and <see cref="PostgresJobReader"/>.</summary>
    internal static SortedDictionary<long, JobInfo> ReadRows(NpgsqlConnection connection, PageQuery page)
    {
        var (sql, parameters) = JobFilterSql.Page(page, Fields.Instance);
        var found = new SortedDictionary<long, JobInfo>();
        using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name.TrimStart('@'), value ?? DBNull.Value);
        }

        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var text = reader.GetString(0);
            var job = JobFilterSql.Job(reader.GetInt64(1), reader.GetString(2), page.ToSend, () => Encoding.UTF8.GetBytes(text), () => text);
            found[job.Id] = job;
        }

        return found;
    }

    internal static IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded(NpgsqlConnection connection, NpgsqlTransaction? tx)
    {
        var found = new List<(string Queue, JobState State, long Count)>();
        var states = string.Join(',', JobStateExtensions.Terminal.Select(s => $"'{s}'"));
        using var cmd = new NpgsqlCommand(
            $"SELECT COALESCE(info::json->>'Queue', '{JobSpec.DefaultQueue}'), state, COUNT(*) FROM jobs WHERE state IN ({states}) GROUP BY 1, 2", connection, tx);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (Enum.TryParse<JobState>(reader.GetString(1), out var state))
            {
                found.Add((reader.GetString(0), state, reader.GetInt64(2)));
            }
        }

        return found;
    }

    protected override string? ReadInfo(long id) => Scalar("SELECT info FROM jobs WHERE id = @id", ("id", id)) as string;

    protected override (string Spec, string? Env)? ReadSpec(long id) =>
        Read("SELECT spec, env FROM jobs WHERE id = @id", r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)), ("id", id))
            .Cast<(string, string?)?>().FirstOrDefault();

    protected override string? ReadOutput(long id) => Scalar("SELECT output FROM jobs WHERE id = @id", ("id", id)) as string;

    protected override string? ReadEnvironment(string key) => Scalar("SELECT json FROM environments WHERE key = @k", ("k", key)) as string;

    protected override SortedDictionary<long, JobInfo> ReadPage(PageQuery page)
    {
        using var connection = _db.Connect();
        return ReadRows(connection, page);
    }

    protected override IEnumerable<(JobState State, long Count)> CountRows() =>
        Read("SELECT state, COUNT(*) FROM jobs GROUP BY state", r => (State: r.GetString(0), Count: r.GetInt64(1)))
            .Where(row => Enum.TryParse<JobState>(row.State, out _))
            .Select(row => (Enum.Parse<JobState>(row.State), row.Count)).ToList();

    protected override Dictionary<long, JobState> ReadStates(IEnumerable<long> ids) =>
        Read("SELECT id, state FROM jobs WHERE id = ANY(@ids)", r => (Id: r.GetInt64(0), State: r.GetString(1)), ("ids", ids.ToArray()))
            .Where(row => Enum.TryParse<JobState>(row.State, out _))
            .ToDictionary(row => row.Id, row => Enum.Parse<JobState>(row.State));

    protected override void ReadWaiting(WaitingRow each)
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand("SELECT id, info FROM jobs WHERE state = @waiting ORDER BY id", connection);
        cmd.Parameters.AddWithValue("waiting", nameof(JobState.Waiting));
        using var reader = cmd.ExecuteReader();
        var buffer = new byte[4096];
        while (reader.Read())
        {
            var text = reader.GetString(1);
            var length = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (buffer.Length < length)
            {
                buffer = new byte[Math.Max(length, buffer.Length * 2)];
            }

            each(reader.GetInt64(0), buffer.AsSpan(0, Encoding.UTF8.GetBytes(text, buffer)));
        }
    }

    protected override IEnumerable<StoredRow> ReadInStates(IReadOnlyCollection<JobState> states) =>
        Rows("SELECT info, spec, env FROM jobs WHERE state = ANY(@states)", ("states", states.Select(s => s.ToString()).ToArray()));

    protected override IEnumerable<StoredRow> ReadWhole(IReadOnlyList<long> ids) =>
        ids.Count == 0 ? [] : Rows("SELECT info, spec, env FROM jobs WHERE id = ANY(@ids)", ("ids", ids.ToArray()));

    protected override StoredRow? ReadArray(long id) =>
        Rows("SELECT info, spec, env FROM arrays WHERE id = @id", ("id", id)).Cast<StoredRow?>().FirstOrDefault();

    protected override IEnumerable<StoredRow> ReadActiveArrays() =>
        Rows("SELECT info, spec, env FROM arrays WHERE NOT (state = ANY(@ended)) ORDER BY id", ("ended", JobStateExtensions.Terminal.Select(s => s.ToString()).ToArray()));

    protected override IReadOnlyList<(long Id, JobState State)> ReadTaskStates(long after, long last) =>
        Read("SELECT id, state FROM jobs WHERE id > @first AND id <= @last ORDER BY id", r => (r.GetInt64(0), Enum.Parse<JobState>(r.GetString(1))),
            ("first", after), ("last", last));

    protected override void DeleteArray(long id) => Fenced("DELETE FROM arrays WHERE id = @id", ("id", id));

    protected override void DeleteJobs(IReadOnlyList<long> ids) => Fenced("DELETE FROM jobs WHERE id = ANY(@ids)", ("ids", ids.ToArray()));

    protected override IEnumerable<(string Key, string Value)> ReadMeta() =>
        Read("SELECT key, value FROM meta", r => (r.GetString(0), r.GetString(1)));

    protected override IEnumerable<StoredBatch> ReadBatches(long cutoffMs, int keep)
    {
        // Pruned as the store opens, which only the server holding the lease does (fenced by its epoch).
        Fenced("DELETE FROM batches WHERE at < @cutoff OR id NOT IN (SELECT id FROM batches ORDER BY at DESC LIMIT @keep)", ("cutoff", cutoffMs), ("keep", keep));

        return Read("SELECT id, first_job, count, at FROM batches ORDER BY at", r => new StoredBatch(r.GetString(0), r.GetInt64(1), r.GetInt32(2), r.GetInt64(3)));
    }

    protected override IEnumerable<long> ReadArrayIds() => Read("SELECT id FROM arrays", r => r.GetInt64(0));

    protected override long MaxStoredId() =>
        (long)Scalar("SELECT GREATEST(COALESCE((SELECT MAX(id) FROM jobs), 0), COALESCE((SELECT MAX(id + (info::json->>'TaskCount')::bigint) FROM arrays), 0))")!;

    protected override void Write(CommitSet changes)
    {
        ThrowIfFenced();
        using var connection = _db.Connect();
        using var tx = connection.BeginTransaction();
        using var batch = new NpgsqlBatch(connection, tx);
        var fence = _epoch is null ? null : Fence(batch);
        var epoch = _epoch ?? 0;
        if (changes.Environments.Count > 0)
        {
            Add(batch, "INSERT INTO environments (key, json) SELECT * FROM unnest(@a, @b) ON CONFLICT (key) DO NOTHING",
                Texts(changes.Environments.Select(e => e.Key)), Texts(changes.Environments.Select(e => e.Json)));
        }

        var (newJobs, changedJobs) = Split(changes.Jobs);
        if (newJobs.Count > 0)
        {
            Add(batch, "INSERT INTO jobs (id, state, info, spec, env, epoch) SELECT u.*, @f FROM unnest(@a, @b, @c, @d, @e) AS u " +
                       "ON CONFLICT (id) DO UPDATE SET state = excluded.state, info = excluded.info, epoch = excluded.epoch",
                Ids(newJobs), Texts(newJobs.Select(r => r.State)), Texts(newJobs.Select(r => r.Info)), Texts(newJobs.Select(r => r.Spec)),
                Texts(newJobs.Select(r => r.Env)), epoch);
        }

        if (changedJobs.Count > 0)
        {
            Add(batch, "UPDATE jobs SET state = u.state, info = u.info, epoch = @d FROM unnest(@a, @b, @c) AS u(id, state, info) WHERE jobs.id = u.id",
                Ids(changedJobs), Texts(changedJobs.Select(r => r.State)), Texts(changedJobs.Select(r => r.Info)), epoch);
        }

        var (newArrays, changedArrays) = Split(changes.Arrays);
        if (newArrays.Count > 0)
        {
            Add(batch, "INSERT INTO arrays (id, state, info, spec, env) SELECT * FROM unnest(@a, @b, @c, @d, @e) " +
                       "ON CONFLICT (id) DO UPDATE SET state = excluded.state, info = excluded.info",
                Ids(newArrays), Texts(newArrays.Select(r => r.State)), Texts(newArrays.Select(r => r.Info)), Texts(newArrays.Select(r => r.Spec)),
                Texts(newArrays.Select(r => r.Env)));
        }

        if (changedArrays.Count > 0)
        {
            Add(batch, "UPDATE arrays SET state = u.state, info = u.info FROM unnest(@a, @b, @c) AS u(id, state, info) WHERE arrays.id = u.id",
                Ids(changedArrays), Texts(changedArrays.Select(r => r.State)), Texts(changedArrays.Select(r => r.Info)));
        }

        if (changes.Outputs.Count > 0)
        {
            Add(batch, "UPDATE jobs SET output = u.output FROM unnest(@a, @b) AS u(id, output) WHERE jobs.id = u.id",
                changes.Outputs.Select(o => o.Id).ToArray(), Texts(changes.Outputs.Select(o => o.Json)));
        }

        if (changes.Batches.Count > 0)
        {
            Add(batch, "INSERT INTO batches (id, first_job, count, at) SELECT * FROM unnest(@a, @b, @c, @d) " +
                       "ON CONFLICT (id) DO UPDATE SET first_job = excluded.first_job, count = excluded.count, at = excluded.at",
                Texts(changes.Batches.Select(b => b.Id)), changes.Batches.Select(b => b.FirstId).ToArray(),
                changes.Batches.Select(b => b.Count).ToArray(), changes.Batches.Select(b => b.At).ToArray());
        }

        if (changes.Meta.Count > 0)
        {
            Add(batch, "INSERT INTO meta (key, value) SELECT * FROM unnest(@a, @b) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                Texts(changes.Meta.Select(m => m.Key)), Texts(changes.Meta.Select(m => m.Value)));
        }

        using (var reader = batch.ExecuteReader())
        {
            CheckFence(reader, fence);
        }

        tx.Commit();
    }

    // --- the fence ------------------------------------------------------------------------------------------------

    /// <summary>
    /// The first statement of a fenced write: counts the commit under this epoch, only while the lease still carries
    /// it. The lease's row is locked (FOR SHARE) until the transaction ends, so a take-over waits for it, and a commit
    /// after a take-over finds another epoch there and changes nothing.
    /// </summary>
    private NpgsqlBatchCommand Fence(NpgsqlBatch batch)
    {
        var fence = new NpgsqlBatchCommand(
            "UPDATE epochs SET commits = commits + 1, last_commit_at = clock_timestamp() " +
            "WHERE epoch = @e AND epoch = (SELECT epoch FROM lease WHERE id = 1 FOR SHARE) RETURNING epoch");
        fence.Parameters.Add(new NpgsqlParameter<long>("e", _epoch!.Value));
        batch.BatchCommands.Add(fence);
        return fence;
    }

    private void CheckFence(NpgsqlDataReader reader, NpgsqlBatchCommand? fence)
    {
        if (fence is not null && !reader.Read())
        {
            _fenced = true;
            // Checkpoint (fencing): nothing of this commit is stored; the transaction is rolled back as it is disposed.
            throw new StoreFencedException(_epoch!.Value,
                $"the store's lease no longer carries epoch {_epoch}: another server has taken over; this one stores nothing more");
        }
    }

    private void ThrowIfFenced()
    {
        if (_fenced)
        {
            throw new StoreFencedException(_epoch!.Value, $"this server's epoch {_epoch} was taken over; it stores nothing more");
        }
    }

    /// <summary>A write outside a commit (a removal), fenced as a commit is.</summary>
    private void Fenced(string sql, params (string Name, object Value)[] parameters)
    {
        ThrowIfFenced();
        using var connection = _db.Connect();
        using var tx = connection.BeginTransaction();
        using var batch = new NpgsqlBatch(connection, tx);
        var fence = _epoch is null ? null : Fence(batch);
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        batch.BatchCommands.Add(command);
        using (var reader = batch.ExecuteReader())
        {
            CheckFence(reader, fence);
        }

        tx.Commit();
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    private static (List<JobRow> New, List<JobRow> Changed) Split(List<JobRow> rows) =>
        (rows.Where(r => r.Spec is not null).ToList(), rows.Where(r => r.Spec is null).ToList());

    /// <summary>A statement of the batch; its parameters are named @a, @b, ... in the order of <paramref name="values"/>.</summary>
    private static void Add(NpgsqlBatch batch, string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue(((char)('a' + i)).ToString(), values[i]);
        }

        batch.BatchCommands.Add(command);
    }

    private static long[] Ids(List<JobRow> rows) => rows.Select(r => r.Id).ToArray();

    private static string?[] Texts(IEnumerable<string?> values) => values.ToArray();

    private List<StoredRow> Rows(string sql, params (string Name, object Value)[] parameters) =>
        Read(sql, r => new StoredRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), parameters);

    private List<T> Read<T>(string sql, Func<NpgsqlDataReader, T> row, params (string Name, object Value)[] parameters)
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        var rows = new List<T>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }

    private object? Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = _db.Connect();
        using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        return cmd.ExecuteScalar();
    }

    /// <summary>PostgreSQL's JSON operators over a record (stored as text, so it comes back byte for byte as written).</summary>
    private sealed class Fields : IRecordFields
    {
        public static readonly Fields Instance = new();

        public string Text(string field) => $"(info::json->>'{field}')";

        public string Integer(string field) => $"{Text(field)}::bigint";

        public string IsTrue(string field) => $"COALESCE({Text(field)}::boolean, false)";

        public string EqualsIgnoringCase(string expression, string parameter) => $"lower({expression}) = lower({parameter})";

        public string LikeIgnoringCase(string expression, string parameter) => $@"{expression} ILIKE {parameter} ESCAPE '\'";

        public string NameMatches(IReadOnlyList<string> names, List<(string Name, object? Value)> parameters)
        {
            parameters.Add(("@names", names.Select(n => new NamePattern(n).RegexText).ToArray()));
            return $"{Text("Name")} ~* ANY(@names)";
        }
    }
}
