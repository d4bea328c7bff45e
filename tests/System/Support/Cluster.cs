using Goq.Client;
using Goq.Configuration;
using Goq.Server;
using Goq.Storage;
using Goq.Tests.Support;
using Goq.Worker;
using Goq.Server.Scheduling;

namespace Goq.SystemTests.Support;

/// <summary>A real server on a random 127.0.0.1 port, real workers and a client, all in this process.</summary>
internal sealed class Cluster : IDisposable
{
    private readonly List<GoqWorker> _workers = [];

    public Cluster(int heartbeatMs = 5000, bool durable = false, TimeSpan? prefetchHorizon = null, int? wholeWaitingJobs = null, Goq.Monitoring.ServerMetrics? metrics = null)
    {
        Metrics = metrics;
        WholeWaitingJobs = wholeWaitingJobs;
        Home = new TempDir();
        HeartbeatMs = heartbeatMs;
        Durable = durable;
        PrefetchHorizon = prefetchHorizon;
        Server = StartServer("tcp://127.0.0.1:0");
        Client = NewClient();
    }

    /// <summary>This cluster's keys: the server gets them whole, workers and clients without the server's secret key.</summary>
    public ClusterCredentials Credentials { get; } = ClusterCredentials.Generate();

    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromSeconds(GoqDefaults.ReplayWindowSec);

    /// <summary>A client of this cluster (or, with other credentials, one that should be refused).</summary>
    public GoqClient NewClient(ClusterCredentials? credentials = null, int timeoutMs = GoqDefaults.RequestTimeoutMs) =>
        new(Server.Endpoint, credentials ?? Credentials.ForPeers(), timeoutMs);

    public int HeartbeatMs { get; }

    /// <summary>The instruments the server feeds; null: none.</summary>
    public Goq.Monitoring.ServerMetrics? Metrics { get; }

    public bool Durable { get; }

    /// <summary>See <see cref="SchedulerOptions.PrefetchHorizon"/>; null for the server's default.</summary>
    public TimeSpan? PrefetchHorizon { get; }

    /// <summary>See <see cref="SchedulerOptions.WholeWaitingJobs"/>; null for the server's default.</summary>
    public int? WholeWaitingJobs { get; }

    public string DatabasePath => Home.Combine("goq.db");

    public TempDir Home { get; }

    public GoqServer Server { get; private set; }

    public GoqClient Client { get; private set; }

    public List<string> LogLines { get; } = [];

    /// <summary>Stops the server and starts a new one on the same port (and, when durable, the same database).</summary>
    public void RestartServer(bool newClient = true)
    {
        var endpoint = Server.Endpoint;
        Server.Dispose();
        Server = StartServer(endpoint);
        if (newClient)
        {
            // A request sent while the server was away may be lost with the old connection; start afresh.
            Client.Dispose();
            Client = NewClient();
        }
    }

    public GoqWorker AddWorker(int slots = 2, bool oneShot = false, ClusterCredentials? credentials = null, int? prefetch = null, TimeSpan? prefetchHold = null,
        int outputFlushMs = 50)
    {
        var worker = new GoqWorker(new GoqWorkerOptions
        {
            Endpoint = Server.Endpoint,
            Credentials = credentials ?? Credentials.ForPeers(),
            Slots = slots,
            Prefetch = prefetch,
            PrefetchHold = prefetchHold ?? TimeSpan.FromMilliseconds(250),
            OneShot = oneShot,
            HeartbeatMs = Math.Min(1000, HeartbeatMs),
            OutputFlushMs = outputFlushMs,
            Log = Log,
        });
        worker.Start();
        _workers.Add(worker);
        return worker;
    }

    public async Task WaitForIdleSlotsAsync(int slots) =>
        await Wait.UntilAsync(() => Client.GetStatusAsync(), s => s.WaitingWorkers == slots, what: $"{slots} idle slots");

    public async Task<JobInfo> RunAsync(JobSpec spec)
    {
        var job = (await Client.SubmitAsync([spec with { WorkingDirectory = spec.WorkingDirectory is "" ? Home.Path : spec.WorkingDirectory }]))[0];
        return await WaitForAsync(job.Id);
    }

    public async Task<JobInfo> WaitForAsync(long id)
    {
        JobInfo? done = null;
        Assert.True(await Client.WaitAsync([id], any: false, TimeSpan.FromSeconds(20), e => done = e.Job), $"job {id} did not end in time");
        return done ?? throw new InvalidOperationException($"job {id} is unknown");
    }

    public async Task<List<OutputLine>> OutputAsync(long id)
    {
        var lines = new List<OutputLine>();
        long from = 0;
        while (true)
        {
            var page = await Client.ReadOutputAsync(id, from, 1000);
            lines.AddRange(page.Lines);
            from = page.NextLine;
            if (page.Complete || page.Lines.Count == 0)
            {
                return lines;
            }
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        Client.Dispose();
        Server.Dispose();
        _stores.ForEach(s => s.Dispose());
        Home.Dispose();
    }

    private GoqServer StartServer(string endpoint)
    {
        IJobStore store = Durable ? new SqliteJobStore(DatabasePath) : new InMemoryJobStore();
        var server = new GoqServer(new GoqServerOptions
        {
            BindEndpoint = endpoint,
            Home = Home.Path,
            HeartbeatMs = HeartbeatMs,
            Scheduler = PrefetchHorizon is null && WholeWaitingJobs is null ? null : SchedulerOptions.FromHeartbeat(TimeSpan.FromMilliseconds(HeartbeatMs)) with
            {
                PrefetchHorizon = PrefetchHorizon ?? new SchedulerOptions().PrefetchHorizon,
                WholeWaitingJobs = WholeWaitingJobs ?? new SchedulerOptions().WholeWaitingJobs,
            },
            Credentials = Credentials,
            ReplayWindow = ReplayWindow,
            Metrics = Metrics,
            Log = Log,
        }, store);
        _stores.Add(store);
        server.Start();
        return server;
    }

    private readonly List<IJobStore> _stores = [];

    /// <summary>The running server's store (read it only while the server is idle: it is the server thread's).</summary>
    public IJobStore Store => _stores[^1];

    /// <summary>Each entry as its text (<see cref="Goq.Diagnostics.LogEntry.ToString"/>): level, event, ids and message.</summary>
    private void Log(Goq.Diagnostics.LogEntry entry)
    {
        lock (LogLines)
        {
            LogLines.Add(entry.ToString());
        }
    }
}
