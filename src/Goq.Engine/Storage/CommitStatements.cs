using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>The statements every SQLite commit runs, prepared once and bound to each commit's transaction.</summary>
internal sealed class CommitStatements(SqliteConnection db, SqliteTransaction first) : IDisposable
{
    public SqliteCommand Environment { get; } = Prepared(db, first, "INSERT OR IGNORE INTO environments (key, json) VALUES ($a, $b)", 2);

    public SqliteCommand Insert { get; } = Prepared(db, first, "INSERT INTO jobs (id, state, info, spec, env) VALUES ($a, $b, $c, $d, $e) " +
        "ON CONFLICT(id) DO UPDATE SET state = excluded.state, info = excluded.info", 5);

    public SqliteCommand Update { get; } = Prepared(db, first, "UPDATE jobs SET state = $b, info = $c WHERE id = $a", 3);

    public SqliteCommand InsertArray { get; } = Prepared(db, first, "INSERT INTO arrays (id, state, info, spec, env) VALUES ($a, $b, $c, $d, $e) " +
        "ON CONFLICT(id) DO UPDATE SET state = excluded.state, info = excluded.info", 5);

    public SqliteCommand UpdateArray { get; } = Prepared(db, first, "UPDATE arrays SET state = $b, info = $c WHERE id = $a", 3);

    public SqliteCommand Output { get; } = Prepared(db, first, "UPDATE jobs SET output = $b WHERE id = $a", 2);

    public SqliteCommand Meta { get; } = Prepared(db, first, "INSERT INTO meta (key, value) VALUES ($a, $b) ON CONFLICT(key) DO UPDATE SET value = excluded.value", 2);

    public SqliteCommand Batch { get; } = Prepared(db, first, "INSERT OR REPLACE INTO batches (id, first_job, count, at) VALUES ($a, $b, $c, $d)", 4);

    private IEnumerable<SqliteCommand> All => [Environment, Insert, Update, InsertArray, UpdateArray, Output, Meta, Batch];

    /// <summary>The statements, bound to <paramref name="tx"/>.</summary>
    public CommitStatements For(SqliteTransaction tx)
    {
        foreach (var cmd in All)
        {
            cmd.Transaction = tx;
        }

        return this;
    }

    public void Dispose()
    {
        foreach (var cmd in All)
        {
            cmd.Dispose();
        }
    }

    private static SqliteCommand Prepared(SqliteConnection db, SqliteTransaction tx, string sql, int parameters)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        for (var i = 0; i < parameters; i++)
        {
            cmd.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), null));
        }

        cmd.Prepare();
        return cmd;
    }
}
