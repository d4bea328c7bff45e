using Goq.Client;
using Goq.Configuration;
using Goq.Errors;
using Goq.Server;
using Goq.Storage;
using Goq.Storage.Postgres;
using Goq.SystemTests.Support;
using Goq.Tests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>
/// A server that no longer holds the store's lease steps down: it answers nothing more and acknowledges nothing it had
/// not stored, whether its own clock told it (the lease ran out) or the store did (a commit fenced by a newer epoch).
/// Real sockets; the fenced case on a real PostgreSQL (skipped, with the reason, where there is none).
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class StepDownTests : IDisposable
{
    private readonly TempDir _home = new();
    private readonly ClusterCredentials _credentials = ClusterCredentials.Generate();
    private readonly List<string> _log = [];
    private readonly List<IDisposable> _owned = [];

    private sealed class TestLease : IStoreLease
    {
        public volatile bool Held = true;

        public bool IsHeld => Held;

        public long Epoch { get; init; } = 1;

        public DateTimeOffset ActiveSince { get; } = DateTimeOffset.UtcNow;
    }

    private GoqServer Start(IJobStore store, IStoreLease lease)
    {
        var server = new GoqServer(new GoqServerOptions
        {
            BindEndpoint = "tcp://127.0.0.1:0",
            Home = _home.Path,
            Credentials = _credentials,
            Lease = lease,
            StoreKind = "PostgreSQL",
            HeartbeatMs = 1000,
            Log = entry => { lock (_log) { _log.Add(entry.ToString()); } },
        }, store);
        server.Start();
        _owned.Add(server);
        return server;
    }

    private GoqClient Client(GoqServer server)
    {
        var client = new GoqClient(server.Endpoint, _credentials.ForPeers(), requestTimeoutMs: 1500);
        _owned.Add(client);
        return client;
    }

    private List<JobSpec> Jobs(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new JobSpec { Kind = JobKind.Shell, Command = $"echo {i}", WorkingDirectory = _home.Path })];

    [Fact]
    public async Task ALeaseThatRanOut_StepsTheServerDown_BeforeItAnswersAnythingMore()
    {
        var store = new InMemoryJobStore();
        var lease = new TestLease { Epoch = 7 };
        var server = Start(store, lease);
        var first = await Client(server).SubmitAsync(Jobs(1));
        var status = await Client(server).GetStatusAsync();
        Assert.Equal(("Active", 7L, "PostgreSQL"), (status.Role, status.Epoch!.Value, status.Store));

        lease.Held = false;
        var unanswered = await Assert.ThrowsAsync<GoqException>(() => Client(server).SubmitAsync(Jobs(2)));
        Assert.Equal(GoqErrorIds.ServerUnreachable, unanswered.ErrorId);
        await server.Completion.WaitAsync(TimeSpan.FromSeconds(30)); // the server stops serving
        Assert.Contains("lease", server.SteppedDown);
        Assert.Equal([first[0].Id], store.Query(null, null).Select(j => j.Id)); // the unanswered batch was not taken
        lock (_log)
        {
            Assert.Contains(_log, line => line.Contains("server.stepped_down", StringComparison.Ordinal));
        }
    }

    [SkippableFact]
    public async Task ACommitFencedByANewerEpoch_StepsTheServerDown_AndNothingOfItIsAcknowledged()
    {
        var database = TestDatabase.Create();
        _owned.Add(database);
        var db = PostgresDatabase.Open(database.ConnectionString);
        _owned.Add(db);
        var mine = new PostgresLease(db, "this", "tcp://this:1", TimeSpan.FromMinutes(5));
        Assert.True(mine.TryAcquire());
        var store = new PostgresJobStore(db, mine.Epoch);
        _owned.Add(store);
        // The server's own clock says it holds the lease (it was paused, say): only the store can tell it otherwise.
        var server = Start(store, new TestLease { Epoch = mine.Epoch });
        var first = await Client(server).SubmitAsync(Jobs(1));

        var other = new PostgresLease(db, "other", "tcp://other:1", TimeSpan.FromMinutes(5));
        mine.Release();
        Assert.True(other.TryAcquire());

        var unanswered = await Assert.ThrowsAsync<GoqException>(() => Client(server).SubmitAsync(Jobs(3)));
        Assert.Equal(GoqErrorIds.ServerUnreachable, unanswered.ErrorId);
        await server.Completion.WaitAsync(TimeSpan.FromSeconds(30)); // it steps down
        Assert.Contains($"epoch {mine.Epoch}", server.SteppedDown);
        using var reader = new PostgresJobStore(db);
        Assert.Equal([first[0].Id], reader.Query(null, null).Select(j => j.Id));
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _home.Dispose();
    }
}
