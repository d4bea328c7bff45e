using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Goq.Errors;
using Goq.Protocol;
using Microsoft.Data.Sqlite;

namespace Goq.Storage;

// Over 400 lines across its partial files: one SQLite connection and its staged changes, committed together; issue 27
// gives arrays, batches and output indexes types of their own.
/// <summary>
/// The durable store: one SQLite file in WAL mode with synchronous=FULL, so a committed transaction survives a
/// crash of the process or the machine. Changes are staged in memory and written by <see cref="Commit"/> in one
/// transaction (the server's group commit). Submitters' environments are stored once per distinct content.
/// Owned by the server's scheduler thread.
/// </summary>
public sealed partial class SqliteJobStore : IJobStore
{
    public const int SchemaVersion = 1;

    private const string QueueLimitKey = "queue_limit:";
    private const string UserKey = "user:";

    private readonly SqliteConnection _db;
    private readonly Dictionary<long, (JobInfo Job, JobSpec? Spec)> _dirty = new();
    private readonly Dictionary<long, OutputIndex> _dirtyOutputs = new();
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _environments = new();
    private readonly ConditionalWeakTable<IReadOnlyDictionary<string, string>, string> _environmentKeys = new();
    private readonly Dictionary<string, string> _newEnvironments = new();
    private readonly Dictionary<string, string> _writtenMeta = new(StringComparer.Ordinal);
    private readonly BatchMemory _batches = new();
    private readonly List<(string Id, long FirstId, int Count, long At)> _newBatches = [];
    private CommitStatements? _statements;
    private long _nextJobId = 1;
    private int _writtenSettings;

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

    public long NextJobId => _nextJobId;

    public StoreCounters Counters { get; } = new();

    public void Count(StoreCounter counter) => Counters.Count(counter);

    public void SetQueueLimit(string queue, int limit) => Counters.SetQueueLimit(queue, limit);

    public long AllocateIds(int count)
    {
        var first = _nextJobId;
        _nextJobId += count;
        return first;
    }

    public void Insert(JobInfo job, JobSpec spec) => _dirty[job.Id] = (job, spec);

    public void Update(JobInfo job) =>
        _dirty[job.Id] = (job, _dirty.TryGetValue(job.Id, out var staged) ? staged.Spec : null);

    public JobInfo? Get(long id)
    {
        if (_dirty.TryGetValue(id, out var staged))
        {
            return staged.Job;
        }

        using var cmd = Command("SELECT info FROM jobs WHERE id = $id", ("$id", id));
        return cmd.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, GoqJson.JobInfo) : null;
    }

    public JobSpec? GetSpec(long id)
    {
        if (_dirty.TryGetValue(id, out var staged) && staged.Spec is not null)
        {
            return staged.Spec;
        }

        using var cmd = Command("SELECT spec, env FROM jobs WHERE id = $id", ("$id", id));
        using var reader = cmd.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var spec = JsonSerializer.Deserialize(reader.GetString(0), GoqJson.JobSpec)!;
        return reader.IsDBNull(1) ? spec : spec with { CapturedEnvironment = Environment(reader.GetString(1)) };
    }

    public void RecordBatch(string batchId, long firstId, int count, DateTimeOffset at)
    {
        _batches.Remember(batchId, firstId, count);
        _newBatches.Add((batchId, firstId, count, at.ToUnixTimeMilliseconds()));
    }

    public (long FirstId, int Count)? FindBatch(string batchId) => _batches.Find(batchId);

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadActive() => LoadActive(int.MaxValue).Whole;

    public IReadOnlyList<long> Remove(IReadOnlyCollection<long> ids)
    {
        Commit();
        var removed = Query(ids, [.. JobStateExtensions.Terminal]).Select(j => j.Id).ToList();
        using var tx = _db.BeginTransaction();
        foreach (var id in removed)
        {
            using var cmd = Command("DELETE FROM jobs WHERE id = $id", ("$id", id));
            cmd.Transaction = tx;
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        return removed;
    }

    public void SaveOutputIndex(long id, OutputIndex index) => _dirtyOutputs[id] = index;

    public OutputIndex? GetOutputIndex(long id)
    {
        if (_dirtyOutputs.TryGetValue(id, out var staged))
        {
            return staged;
        }

        using var cmd = Command("SELECT output FROM jobs WHERE id = $id", ("$id", id));
        return cmd.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, GoqJsonContext.Default.OutputIndex) : null;
    }

    public bool HasChanges =>
        _dirty.Count > 0 || _dirtyOutputs.Count > 0 || _newBatches.Count > 0 || _dirtyArrays.Count > 0 || Counters.SettingsVersion != _writtenSettings;

    public void Commit()
    {
        if (!HasChanges)
        {
            return;
        }

        // Checkpoint: everything staged becomes durable here, or nothing does.
        using var tx = _db.BeginTransaction();
        // Prepared once and kept: parsing five statements for every commit cost more than running them.
        _statements ??= new CommitStatements(_db, tx);
        var (environment, insert, update, output, meta, batch) = _statements.For(tx);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, (job, spec)) in _dirty)
        {
            var info = JsonSerializer.Serialize(job, GoqJson.JobInfo);
            if (spec is null)
            {
                Run(update, id, job.State.ToString(), info);
                continue;
            }

            var envKey = EnvironmentKey(spec.CapturedEnvironment);
            if (envKey is not null && _newEnvironments.TryGetValue(envKey, out var envJson) && written.Add(envKey))
            {
                Run(environment, envKey, envJson); // forgotten once committed: a failed commit (a full disk) writes it again
            }

            Run(insert, id, job.State.ToString(), info,
                JsonSerializer.Serialize(spec with { CapturedEnvironment = null }, GoqJson.JobSpec), envKey);
        }

        CommitArrays(tx, written);
        foreach (var (id, index) in _dirtyOutputs)
        {
            Run(output, id, JsonSerializer.Serialize(index, GoqJsonContext.Default.OutputIndex));
        }

        // Checkpoint (idempotent submit): a batch's id is durable in the very commit that holds its jobs.
        foreach (var (batchId, firstId, count, at) in _newBatches)
        {
            Run(batch, batchId, firstId, count, at);
        }

        var changedMeta = MetaValues().Where(m => _writtenMeta.GetValueOrDefault(m.Key) != m.Value).ToList();
        foreach (var (key, value) in changedMeta)
        {
            Run(meta, key, value);
        }

        tx.Commit();
        foreach (var key in written)
        {
            _newEnvironments.Remove(key);
        }

        _dirty.Clear();
        _dirtyOutputs.Clear();
        _newBatches.Clear();
        _dirtyArrays.Clear();
        _writtenSettings = Counters.SettingsVersion;
        foreach (var (key, value) in changedMeta)
        {
            _writtenMeta[key] = value;
        }
    }

    public IJobReader? OpenReader()
    {
        Commit(); // the file and its schema exist before a reader opens it
        return new SqliteJobReader(Path);
    }

    public void Dispose()
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

    private IEnumerable<(string Key, string Value)> MetaValues()
    {
        yield return ("next_job_id", _nextJobId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("finished_jobs", Counters.FinishedJobs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("cancelled_jobs", Counters.CancelledJobs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("dead_worker_resubmits", Counters.DeadWorkerResubmits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (queue, limit) in Counters.QueueLimits)
        {
            yield return (QueueLimitKey + queue, limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var (name, json) in Counters.Users)
        {
            yield return (UserKey + name, json);
        }
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
        using var cmd = Command("SELECT value FROM meta WHERE key = 'schema_version'");
        var version = int.TryParse(cmd.ExecuteScalar() as string, out var v) ? v : -1;
        if (version != SchemaVersion)
        {
            throw new GoqException(GoqErrorIds.StoreUnusable, GoqErrorKind.InvalidData,
                $"the job database '{Path}' has schema version {version}; this Goq ({GoqVersion.Current}) reads version {SchemaVersion}. " +
                "Use the Goq version that wrote it, or move the file aside to start with an empty queue") { Target = Path };
        }
    }

    private void LoadMeta()
    {
        using var cmd = Command("SELECT key, value FROM meta");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (reader.GetString(0) is var userKey && userKey.StartsWith(UserKey, StringComparison.Ordinal))
            {
                Counters.Users[userKey[UserKey.Length..]] = reader.GetString(1);
                continue;
            }

            _ = long.TryParse(reader.GetString(1), out var value);
            switch (reader.GetString(0))
            {
                case "next_job_id": _nextJobId = Math.Max(1, value); break;
                case "finished_jobs": Counters.FinishedJobs = value; break;
                case "cancelled_jobs": Counters.CancelledJobs = value; break;
                case "dead_worker_resubmits": Counters.DeadWorkerResubmits = value; break;
                case var key when key.StartsWith(QueueLimitKey, StringComparison.Ordinal):
                    Counters.QueueLimits[key[QueueLimitKey.Length..]] = (int)Math.Clamp(value, 0, int.MaxValue);
                    break;
            }
        }

        LoadBatches();
        LoadArrayIds();

        // Never hand out an id that is on disk, whatever the meta row says (an array's tasks' ids come after its own).
        using var max = Command("SELECT MAX(COALESCE((SELECT MAX(id) FROM jobs), 0), " +
            "COALESCE((SELECT MAX(id + json_extract(info, '$.TaskCount')) FROM arrays), 0))");
        _nextJobId = Math.Max(_nextJobId, (long)max.ExecuteScalar()! + 1);
    }

    /// <summary>Forgets batch ids past what <see cref="BatchMemory"/> keeps, then loads the rest, oldest first.</summary>
    private void LoadBatches()
    {
        var cutoff = DateTimeOffset.UtcNow.Add(-BatchMemory.Retention).ToUnixTimeMilliseconds();
        using (var prune = Command("DELETE FROM batches WHERE at < $cutoff OR id NOT IN (SELECT id FROM batches ORDER BY at DESC LIMIT $keep)",
                   ("$cutoff", cutoff), ("$keep", BatchMemory.MaxRemembered)))
        {
            prune.ExecuteNonQuery();
        }

        using var cmd = Command("SELECT id, first_job, count FROM batches ORDER BY at");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            _batches.Remember(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2));
        }
    }

    private string? EnvironmentKey(IReadOnlyDictionary<string, string>? environment)
    {
        if (environment is null)
        {
            return null;
        }

        if (_environmentKeys.TryGetValue(environment, out var known))
        {
            return known;
        }

        var json = JsonSerializer.Serialize(environment.ToDictionary(), GoqJsonContext.Default.DictionaryStringString);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        _environmentKeys.AddOrUpdate(environment, key);
        if (!_environments.ContainsKey(key))
        {
            _environments[key] = environment;
            _newEnvironments[key] = json;
        }

        return key;
    }

    private IReadOnlyDictionary<string, string>? Environment(string key)
    {
        if (_environments.TryGetValue(key, out var cached))
        {
            return cached;
        }

        using var cmd = Command("SELECT json FROM environments WHERE key = $k", ("$k", key));
        if (cmd.ExecuteScalar() is not string json)
        {
            return null;
        }

        var environment = JsonSerializer.Deserialize(json, GoqJsonContext.Default.DictionaryStringString)!;
        _environments[key] = environment;
        return environment;
    }

    private static void Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        cmd.ExecuteNonQuery();
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
}
