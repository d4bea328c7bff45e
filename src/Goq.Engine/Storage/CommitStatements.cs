using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>The statements every commit runs, prepared once and bound to each commit's transaction.</summary>
internal sealed class CommitStatements(SqliteConnection db, SqliteTransaction first) : IDisposable
{
    private readonly SqliteCommand _environment = Prepared(db, first, "INSERT OR IGNORE INTO environments (key, json) VALUES ($a, $b)", 2);
    private readonly SqliteCommand _insert = Prepared(db, first, "INSERT INTO jobs (id, state, info, spec, env) VALUES ($a, $b, $c, $d, $e) " +
        "ON CONFLICT(id) DO UPDATE SET state = excluded.state, info = excluded.info", 5);
    private readonly SqliteCommand _update = Prepared(db, first, "UPDATE jobs SET state = $b, info = $c WHERE id = $a", 3);
    private readonly SqliteCommand _output = Prepared(db, first, "UPDATE jobs SET output = $b WHERE id = $a", 2);
    private readonly SqliteCommand _meta = Prepared(db, first, "INSERT INTO meta (key, value) VALUES ($a, $b) ON CONFLICT(key) DO UPDATE SET value = excluded.value", 2);
    private readonly SqliteCommand _batch = Prepared(db, first, "INSERT OR REPLACE INTO batches (id, first_job, count, at) VALUES ($a, $b, $c, $d)", 4);

    public (SqliteCommand Environment, SqliteCommand Insert, SqliteCommand Update, SqliteCommand Output, SqliteCommand Meta, SqliteCommand Batch) For(SqliteTransaction tx)
    {
        foreach (var cmd in new[] { _environment, _insert, _update, _output, _meta, _batch })
        {
            cmd.Transaction = tx;
        }

        return (_environment, _insert, _update, _output, _meta, _batch);
    }

    public void Dispose()
    {
        foreach (var cmd in new[] { _environment, _insert, _update, _output, _meta, _batch })
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
