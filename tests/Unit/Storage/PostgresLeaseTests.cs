using Goq.Errors;
using Goq.Storage;
using Goq.Storage.Postgres;
using Goq.Tests.Support;
using Goq.Timing;

namespace Goq.Tests.Storage;

/// <summary>
/// The lease several servers on one PostgreSQL store elect the serving one with, and the fence it puts on every commit:
/// on a real database of the test's own. Skipped, with the reason, where no PostgreSQL can be had.
/// </summary>
public sealed class PostgresLeaseTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private TestDatabase? _database;

    private PostgresDatabase Database()
    {
        _database ??= Owned(TestDatabase.Create());
        return Owned(PostgresDatabase.Open(_database.ConnectionString));
    }

    private T Owned<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private static JobInfo Job(long id) => new() { Id = id, Command = "true", State = JobState.Waiting, SubmittedAt = DateTimeOffset.UtcNow };

    private static JobSpec Spec() => new() { Command = "true" };

    [SkippableFact]
    public void OneServerHoldsTheLease_TheOtherTakesItOnlyOnceGivenUp_WithTheNextEpoch()
    {
        var db = Database();
        var a = new PostgresLease(db, "a", "tcp://a:1", TimeSpan.FromMinutes(5));
        var b = new PostgresLease(db, "b", "tcp://b:1", TimeSpan.FromMinutes(5));
        Assert.True(a.TryAcquire());
        Assert.True(a.IsHeld);
        Assert.Equal(1, a.Epoch);
        Assert.False(b.TryAcquire());
        Assert.False(b.IsHeld);
        Assert.Equal(new LeaseHolder(1, "a", "tcp://a:1", a.ActiveSince), b.Current());

        Assert.True(a.Renew());
        a.Release();
        Assert.False(a.IsHeld);
        Assert.True(b.TryAcquire());
        Assert.Equal(2, b.Epoch);
        Assert.Equal("b", b.Current()!.Holder);
        Assert.False(a.Renew()); // its epoch is gone
        Assert.False(a.IsHeld);
    }

    [SkippableFact]
    public void ALeaseNotRenewed_RunsOutByTheDatabasesClock_AndAStandbyTakesIt()
    {
        var db = Database();
        var a = new PostgresLease(db, "a", "tcp://a:1", TimeSpan.FromSeconds(2));
        var b = new PostgresLease(db, "b", "tcp://b:1", TimeSpan.FromSeconds(2));
        Assert.True(a.TryAcquire());
        var deadline = Deadline.In(TimeSpan.FromSeconds(30));
        while (!b.TryAcquire())
        {
            Assert.False(deadline.Passed, "the standby never took the lease after it ran out");
            Thread.Sleep(50);
        }

        Assert.Equal(2, b.Epoch);
        Assert.False(a.IsHeld); // its own clock let it go before the database did
        Assert.False(a.Renew());
    }

    [SkippableFact]
    public void ACommitUnderAnEpochTakenOver_IsRefused_AndStoresNothing()
    {
        var db = Database();
        var a = new PostgresLease(db, "a", "tcp://a:1", TimeSpan.FromMinutes(5));
        Assert.True(a.TryAcquire());
        using var old = new PostgresJobStore(db, a.Epoch);
        old.Insert(Job(old.AllocateIds(1)), Spec());
        old.Commit();

        // A pause: meanwhile another server takes over (here: the lease given up) and commits under epoch 2.
        var b = new PostgresLease(db, "b", "tcp://b:1", TimeSpan.FromMinutes(5));
        a.Release();
        Assert.True(b.TryAcquire());
        using (var current = new PostgresJobStore(db, b.Epoch))
        {
            current.Insert(Job(current.AllocateIds(1)), Spec());
            current.Commit();
        }

        // The old server wakes with a change staged: its commit is fenced, whole.
        var oldCommits = _database!.Scalar("SELECT commits FROM goq.epochs WHERE epoch = 1");
        old.Insert(Job(3), Spec());
        old.Update(Job(1));
        var refused = Assert.Throws<StoreFencedException>(old.Commit);
        Assert.Equal(1, refused.Epoch);
        Assert.Throws<StoreFencedException>(() => old.Remove([1]));

        using var reader = new PostgresJobStore(db);
        Assert.Equal([1L, 2L], reader.Query(null, null).Select(j => j.Id));
        Assert.Equal(oldCommits, _database.Scalar("SELECT commits FROM goq.epochs WHERE epoch = 1")); // nothing more under epoch 1
        Assert.True((bool)_database.Scalar("SELECT last_commit_at < (SELECT started_at FROM goq.epochs WHERE epoch = 2) FROM goq.epochs WHERE epoch = 1")!);
        Assert.Equal(0L, _database.Scalar("SELECT count(*) FROM goq.jobs WHERE epoch = 1 AND id <> 1"));
    }

    [SkippableFact]
    public void ServersAnnounceThemselves_WithTheirRoles()
    {
        var db = Database();
        var a = new PostgresLease(db, "a", "tcp://a:1", TimeSpan.FromMinutes(5));
        var b = new PostgresLease(db, "b", "tcp://b:1", TimeSpan.FromMinutes(5));
        Assert.True(a.TryAcquire());
        a.Announce("Active");
        b.Announce("Standby");
        var announced = a.Announced();
        Assert.Equal([("tcp://a:1", "Active", (long?)1), ("tcp://b:1", "Standby", null)], announced.Select(s => (s.Endpoint, s.Role, s.Epoch)));
    }

    [SkippableFact]
    public void ASchemaNewerThanThisGoq_IsRefused_WithWhatToDo()
    {
        Database();
        _database!.Scalar("UPDATE goq.meta SET value = '99' WHERE key = 'schema_version'");
        var refused = Assert.Throws<GoqException>(() => PostgresDatabase.Open(_database.ConnectionString));
        Assert.Equal(GoqErrorIds.StoreUnusable, refused.ErrorId);
        Assert.Contains("schema version 99", refused.Message);
    }

    [SkippableFact]
    public void AWrongPassword_AndADatabaseNobodyServes_AreToldApart()
    {
        var (server, reason) = TestDatabase.Server;
        Skip.If(server is null, reason);
        var wrong = Assert.Throws<GoqException>(() => PostgresDatabase.Open(server!, password: "not-the-password"));
        Assert.Equal(GoqErrorIds.StoreUnavailable, wrong.ErrorId);
        Assert.Equal(GoqErrorKind.Security, wrong.Kind);
        Assert.Contains("password", wrong.Message);

        using var free = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        free.Start();
        var port = ((System.Net.IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        var down = Assert.Throws<GoqException>(() => PostgresDatabase.Open($"Host=127.0.0.1;Port={port};Username=goq;Database=goq;Timeout=2"));
        Assert.Equal(GoqErrorIds.StoreUnavailable, down.ErrorId);
        Assert.Equal(GoqErrorKind.Connection, down.Kind);
        Assert.Contains("cannot be reached", down.Message);
    }
}
