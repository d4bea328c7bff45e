using System.Data;
using Npgsql;

namespace Goq.Storage.Postgres;

/// <summary>
/// Reads committed pages for another thread (see <see cref="IJobReader"/>), with connections of its own from the
/// pool: PostgreSQL's readers neither wait for the writer nor hold it up. A pinned snapshot is a REPEATABLE READ
/// transaction held open until <see cref="CountEnded"/>. Used by one thread.
/// </summary>
public sealed class PostgresJobReader(PostgresDatabase db) : IJobReader
{
    private NpgsqlConnection? _pinnedConnection;
    private NpgsqlTransaction? _pinned;

    public IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId, int limit, JobFilter? filter)
    {
        using var connection = db.Connect();
        return [.. PostgresJobStore.ReadRows(connection, new PageQuery(ids, states, afterId, limit, filter, ToSend: true)).Values];
    }

    public IReadOnlyList<JobInfo> Newest(IReadOnlyCollection<JobState>? states, long beforeId, int limit, JobFilter? filter, long afterId = 0)
    {
        using var connection = db.Connect();
        return [.. PostgresJobStore.ReadRows(connection, new PageQuery(null, states, afterId, limit, filter, ToSend: false, beforeId, NewestFirst: true)).Values.Reverse()];
    }

    public void PinSnapshot()
    {
        EndPin();
        _pinnedConnection = db.Connect();
        _pinned = _pinnedConnection.BeginTransaction(IsolationLevel.RepeatableRead);
        // The snapshot is taken at the first read; it may wait idle for its count longer than a server's transactions
        // may (see PostgresDatabase.Open), and it holds no lock a take-over needs.
        using var cmd = new NpgsqlCommand("SET LOCAL idle_in_transaction_session_timeout = 0; SELECT 1 FROM meta LIMIT 1", _pinnedConnection, _pinned);
        cmd.ExecuteScalar();
    }

    public IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded()
    {
        try
        {
            if (_pinnedConnection is not null)
            {
                return PostgresJobStore.CountEnded(_pinnedConnection, _pinned);
            }

            using var connection = db.Connect();
            return PostgresJobStore.CountEnded(connection, null);
        }
        finally
        {
            EndPin();
        }
    }

    public void Dispose() => EndPin();

    private void EndPin()
    {
        _pinned?.Dispose();
        _pinned = null;
        _pinnedConnection?.Dispose();
        _pinnedConnection = null;
    }
}
