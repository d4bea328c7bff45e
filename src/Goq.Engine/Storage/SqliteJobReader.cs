using Goq.Errors;
using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>
/// A read-only connection to the store's file. In WAL mode a reader sees the last committed transaction and neither
/// waits for the writer nor holds it up, so pages are read here, off the server's loop thread. Used by one thread.
/// </summary>
public sealed class SqliteJobReader : IJobReader
{
    private readonly SqliteConnection _db;

    public SqliteJobReader(string path)
    {
        try
        {
            _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            _db.Open();
        }
        catch (SqliteException ex)
        {
            _db?.Dispose();
            throw new GoqException(GoqErrorIds.StoreUnusable, GoqErrorKind.InvalidData, $"the job database '{path}' cannot be read ({ex.Message})", ex) { Target = path };
        }
    }

    public IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter) =>
        [.. SqliteJobStore.ReadRows(_db, new PageQuery(ids, states, afterId, limit, filter, ToSend: true)).Values];

    public IReadOnlyList<JobInfo> Newest(IReadOnlyCollection<JobState>? states, long beforeId, int limit, JobFilter? filter, long afterId = 0) =>
        [.. SqliteJobStore.ReadRows(_db, new PageQuery(null, states, afterId, limit, filter, ToSend: false, beforeId, NewestFirst: true)).Values.Reverse()];

    private SqliteTransaction? _pinned;

    public void PinSnapshot()
    {
        _pinned = _db.BeginTransaction(deferred: true);
        using var cmd = _db.CreateCommand();
        cmd.Transaction = _pinned;
        cmd.CommandText = "SELECT COUNT(*) FROM meta"; // a WAL reader's snapshot is taken at its first read
        cmd.ExecuteScalar();
    }

    public IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded()
    {
        try
        {
            return SqliteJobStore.CountEnded(_db, _pinned);
        }
        finally
        {
            _pinned?.Dispose();
            _pinned = null;
        }
    }

    public void Dispose()
    {
        _pinned?.Dispose();
        _db.Dispose();
    }
}
