using System.Text;
using Goq.Errors;
using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a committed transaction survives a crash
/// of the process or the machine. Staging, merging and the group commit are <see cref="StagedJobStore"/>'s; this type
/// reads and writes the rows. Array jobs: each array's own record and spec (with every index) in one row of
/// <c>arrays</c>, written once; its tasks are rows of <c>jobs</c>, ids right after the array's own.
/// Owned by the server's scheduler thread.
/// </summary>
public sealed class SqliteJobStore : StagedJobStore
{
    public const int SchemaVersion = 1;

    private readonly SqliteConnection _db;
    private CommitStatements? _statements;

    public SqliteJobStore(string path)
    {
        SqliteNativeLibrary.EnsureResolvable();
        Path = path;
        try
        {
            _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
            _db.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;");
            Execute("PRAGMA quick_check;");
            CreateOrCheckSchema();
            LoadMeta();
        }
        catch (SqliteException ex)
        {
            _db?.Dispose();
            throw new GoqException(GoqErrorIds.StoreUnusable, GoqErrorKind.InvalidData,
                $"the job database '{path}' cannot be used ({ex.Message}); move it aside to start with an empty queue", ex) { Target = path };
        }

        Configuration.GoqHomeInitializer.RestrictFile(path);
    }

    public string Path { get; }

    public override IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded() => CountEnded(_db, null);

    public override IJobReader? OpenReader()
    {
        Commit(); // the file and its schema exist before a reader opens it
        return new SqliteJobReader(Path);
    }

    public override void Dispose()
    {
        try
        {
            Commit();
        }
        finally
        {
            _statements?.Dispose();
            _db.Dispose();
        }
    }

    /// <summary>The stored rows of a page, by id: shared by the store's own connection and <see cref="SqliteJobReader"/>'s.</summary>
    internal static SortedDictionary<long, JobInfo> ReadRows(SqliteConnection db, PageQuery page)
    {
        if (page.Filter?.Names is { } names)
        {
            // Registered for this query: the connection is used by one thread, one query at a time.
            var matches = JobFilter.NameMatcher(names);
            db.CreateFunction("job_name_matches", (string? name) => matches(name), isDeterministic: true);
        }

        var (sql, parameters) = JobFilterSql.Page(page, Fields.Instance);
        var found = new SortedDictionary<long, JobInfo>();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var job = JobFilterSql.Job(reader.GetInt64(1), reader.GetString(2), page.ToSend, () => reader.GetFieldValue<byte[]>(0), () => reader.GetString(0));
            found[job.Id] = job;
        }

        return found;
    }

    /// <summary>Reads every ended row's queue (a second or two for a million): for a reader's thread, or a store's start.</summary>
    internal static IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded(SqliteConnection db, SqliteTransaction? transaction)
    {
        var found = new List<(string Queue, JobState State, long Count)>();
        var states = string.Join(',', JobStateExtensions.Terminal.Select(s => $"'{s}'"));
        using var cmd = db.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = $"SELECT COALESCE(json_extract(info, '$.Queue'), '{JobSpec.DefaultQueue}'), state, COUNT(*) FROM jobs WHERE state IN ({states}) GROUP BY 1, 2";
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

    protected override string? ReadInfo(long id) => Scalar("SELECT info FROM jobs WHERE id = @id", ("@id", id)) as string;

    protected override (string Spec, string? Env)? ReadSpec(long id)
    {
        using var cmd = Command("SELECT spec, env FROM jobs WHERE id = @id", ("@id", id));
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }

    protected override string? ReadOutput(long id) => Scalar("SELECT output FROM jobs WHERE id = @id", ("@id", id)) as string;

    protected override string? ReadEnvironment(string key) => Scalar("SELECT json FROM environments WHERE key = @k", ("@k", key)) as string;

    protected override SortedDictionary<long, JobInfo> ReadPage(PageQuery page) => ReadRows(_db, page);

    protected override IEnumerable<(JobState State, long Count)> CountRows()
    {
        var counts = new List<(JobState, long)>();
        using var cmd = Command("SELECT state, COUNT(*) FROM jobs GROUP BY state"); // over the state index only
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (Enum.TryParse<JobState>(reader.GetString(0), out var state))
            {
                counts.Add((state, reader.GetInt64(1)));
            }
        }

        return counts;
    }

    protected override Dictionary<long, JobState> ReadStates(IEnumerable<long> ids)
    {
        var found = new Dictionary<long, JobState>();
        using var cmd = Command("SELECT id, state FROM jobs WHERE id IN (SELECT value FROM json_each(@ids))", ("@ids", $"[{string.Join(',', ids)}]"));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (Enum.TryParse<JobState>(reader.GetString(1), out var state))
            {
                found[reader.GetInt64(0)] = state;
            }
        }

        return found;
    }

    protected override void ReadWaiting(WaitingRow each)
    {
        // The whole value at once: reading a text column's bytes piecewise cost three times the rest of the read.
        using var cmd = Command("SELECT id, info FROM jobs WHERE state = @waiting ORDER BY id", ("@waiting", nameof(JobState.Waiting)));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            each(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1));
        }
    }

    protected override IEnumerable<StoredRow> ReadInStates(IReadOnlyCollection<JobState> states) =>
        Rows($"SELECT info, spec, env FROM jobs WHERE state IN ({string.Join(',', states.Select(s => $"'{s}'"))})");

    protected override IEnumerable<StoredRow> ReadWhole(IReadOnlyList<long> ids) =>
        ids.Count == 0 ? [] : Rows("SELECT info, spec, env FROM jobs WHERE id IN (SELECT value FROM json_each(@ids))", ("@ids", $"[{string.Join(',', ids)}]"));

    protected override StoredRow? ReadArray(long id) =>
        Rows("SELECT info, spec, env FROM arrays WHERE id = @id", ("@id", id)).Cast<StoredRow?>().FirstOrDefault();

    protected override IEnumerable<StoredRow> ReadActiveArrays() =>
        Rows($"SELECT info, spec, env FROM arrays WHERE state NOT IN ({string.Join(',', JobStateExtensions.Terminal.Select(s => $"'{s}'"))}) ORDER BY id");

    protected override IReadOnlyList<(long Id, JobState State)> ReadTaskStates(long after, long last)
    {
        var tasks = new List<(long, JobState)>();
        using var cmd = Command("SELECT id, state FROM jobs WHERE id > @first AND id <= @last ORDER BY id", ("@first", after), ("@last", last));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            tasks.Add((reader.GetInt64(0), Enum.Parse<JobState>(reader.GetString(1))));
        }

        return tasks;
    }

    protected override void DeleteArray(long id)
    {
        using var cmd = Command("DELETE FROM arrays WHERE id = @id", ("@id", id));
        cmd.ExecuteNonQuery();
    }

    protected override void DeleteJobs(IReadOnlyList<long> ids)
    {
        using var tx = _db.BeginTransaction();
        using var cmd = Command("DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(@ids))", ("@ids", $"[{string.Join(',', ids)}]"));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
        tx.Commit();
    }

    protected override IEnumerable<(string Key, string Value)> ReadMeta()
    {
        var rows = new List<(string, string)>();
        using var cmd = Command("SELECT key, value FROM meta");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }

    protected override IEnumerable<StoredBatch> ReadBatches(long cutoffMs, int keep)
    {
        using (var prune = Command("DELETE FROM batches WHERE at < @cutoff OR id NOT IN (SELECT id FROM batches ORDER BY at DESC LIMIT @keep)",
                   ("@cutoff", cutoffMs), ("@keep", keep)))
        {
            prune.ExecuteNonQuery();
        }

        var batches = new List<StoredBatch>();
        using var cmd = Command("SELECT id, first_job, count, at FROM batches ORDER BY at");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            batches.Add(new StoredBatch(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt64(3)));
        }

        return batches;
    }

    protected override IEnumerable<long> ReadArrayIds()
    {
        var ids = new List<long>();
        using var cmd = Command("SELECT id FROM arrays");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    protected override long MaxStoredId() =>
        (long)Scalar("SELECT MAX(COALESCE((SELECT MAX(id) FROM jobs), 0), COALESCE((SELECT MAX(id + json_extract(info, '$.TaskCount')) FROM arrays), 0))")!;

    protected override void Write(CommitSet changes)
    {
        using var tx = _db.BeginTransaction();
        // Prepared once and kept: parsing the statements for every commit cost more than running them.
        _statements ??= new CommitStatements(_db, tx);
        var s = _statements.For(tx);
        foreach (var (key, json) in changes.Environments)
        {
            Run(s.Environment, key, json);
        }

        foreach (var row in changes.Jobs)
        {
            if (row.Spec is null)
            {
                Run(s.Update, row.Id, row.State, row.Info);
            }
            else
            {
                Run(s.Insert, row.Id, row.State, row.Info, row.Spec, row.Env);
            }
        }

        foreach (var row in changes.Arrays)
        {
            if (row.Spec is null)
            {
                Run(s.UpdateArray, row.Id, row.State, row.Info);
            }
            else
            {
                Run(s.InsertArray, row.Id, row.State, row.Info, row.Spec, row.Env);
            }
        }

        foreach (var (id, json) in changes.Outputs)
        {
            Run(s.Output, id, json);
        }

        foreach (var batch in changes.Batches)
        {
            Run(s.Batch, batch.Id, batch.FirstId, batch.Count, batch.At);
        }

        foreach (var (key, value) in changes.Meta)
        {
            Run(s.Meta, key, value);
        }

        tx.Commit();
    }

    private void CreateOrCheckSchema()
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL, info TEXT NOT NULL, spec TEXT NOT NULL, env TEXT, output TEXT);
            CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
            CREATE TABLE IF NOT EXISTS environments (key TEXT PRIMARY KEY, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, first_job INTEGER NOT NULL, count INTEGER NOT NULL, at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS arrays (id INTEGER PRIMARY KEY, state TEXT NOT NULL, info TEXT NOT NULL, spec TEXT NOT NULL, env TEXT);
            INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
            """);
        var version = int.TryParse(Scalar("SELECT value FROM meta WHERE key = 'schema_version'") as string, out var v) ? v : -1;
        if (version != SchemaVersion)
        {
            throw new GoqException(GoqErrorIds.StoreUnusable, GoqErrorKind.InvalidData,
                $"the job database '{Path}' has schema version {version}; this Goq ({GoqVersion.Current}) reads version {SchemaVersion}. " +
                "Use the Goq version that wrote it, or move the file aside to start with an empty queue") { Target = Path };
        }
    }

    private List<StoredRow> Rows(string sql, params (string Name, object? Value)[] parameters)
    {
        var rows = new List<StoredRow>();
        using var cmd = Command(sql, parameters);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new StoredRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return rows;
    }

    private static void Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, parameters);
        return cmd.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        using var cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    /// <summary>SQLite's JSON functions over a record.</summary>
    private sealed class Fields : IRecordFields
    {
        public static readonly Fields Instance = new();

        public string Text(string field) => $"json_extract(info, '$.{field}')";

        public string Integer(string field) => Text(field);

        public string IsTrue(string field) => $"(COALESCE({Text(field)}, 0) = 1)";

        public string EqualsIgnoringCase(string expression, string parameter) => $"{expression} = {parameter} COLLATE NOCASE";

        public string LikeIgnoringCase(string expression, string parameter) => $@"{expression} LIKE {parameter} ESCAPE '\'"; // SQLite's LIKE ignores ASCII case

        public string NameMatches(IReadOnlyList<string> names, List<(string Name, object? Value)> parameters) => $"job_name_matches({Text("Name")})";
    }
}
