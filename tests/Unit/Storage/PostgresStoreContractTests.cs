using Goq.Storage;
using Goq.Storage.Postgres;
using Goq.Tests.Support;

namespace Goq.Tests.Storage;

/// <summary>
/// The store contract (<see cref="JobStoreContract"/>) over PostgreSQL: a database of the test's own on the run's
/// throw-away server, every open a new connection pool on it (a restart), fenced by no epoch (the lease's tests are
/// <see cref="PostgresLeaseTests"/>'). Skipped, with the reason, where no PostgreSQL can be had.
/// </summary>
public sealed class PostgresStoreContractTests : JobStoreContract
{
    private readonly List<PostgresDatabase> _opened = [];
    private TestDatabase? _database;

    protected override StagedJobStore Open()
    {
        _database ??= TestDatabase.Create();
        var db = PostgresDatabase.Open(_database.ConnectionString);
        _opened.Add(db);
        return new PostgresJobStore(db);
    }

    public override void Dispose()
    {
        foreach (var db in _opened)
        {
            db.Dispose();
        }

        _database?.Dispose();
        base.Dispose();
    }
}
