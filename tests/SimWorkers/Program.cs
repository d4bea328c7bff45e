using Goq.Configuration;
using Goq.SimWorkers;

// Goq.SimWorkers --home <goq home> --workers <n> [--prefix <id prefix>] [--slots <n>] [--queue <name>] [--hang 1] [--stats 1]
// Connects n simulated workers to the home's server and keeps them alive (heartbeats, job reports) until stdin closes
// or the process is stopped. --hang 1: each hangs holding the first job it is handed. --stats 1: every second, one
// line: registered, jobs run, acks, heartbeats, refused.
var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    options[args[i].TrimStart('-')] = args[i + 1];
}

if (!options.TryGetValue("home", out var home) || !options.TryGetValue("workers", out var workersText) || !int.TryParse(workersText, out var count) || count < 1)
{
    Console.Error.WriteLine("usage: Goq.SimWorkers --home <goq home> --workers <n> [--prefix <id prefix>] [--slots <n>] [--queue <name>] [--hang 1] [--stats 1]");
    return 2;
}

var settings = GoqSettings.Load(home);
var slots = options.TryGetValue("slots", out var slotsText) ? int.Parse(slotsText) : 1;
var prefix = options.GetValueOrDefault("prefix") ?? $"sim{Environment.ProcessId}";
IReadOnlyList<string>? queues = options.TryGetValue("queue", out var queue) ? [queue] : null;
var fleet = new SimulatedFleet(settings.Endpoint, settings.LoadCredentials(), slots, settings.HeartbeatSec * 1000, Environment.MachineName,
    TimeSpan.FromSeconds(settings.ReplayWindowSec));
fleet.Add(prefix, count, queues, diesWithFirstJob: options.GetValueOrDefault("hang") == "1");
var stats = options.GetValueOrDefault("stats") == "1";

var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
_ = Task.Run(() =>
{
    while (Console.In.ReadLine() is not null)
    {
    }

    stop.Cancel();
});

while (!stop.IsCancellationRequested)
{
    if (stats)
    {
        var registered = fleet.Snapshot().Count(w => w.Registered);
        Console.WriteLine($"registered {registered} jobs {fleet.Jobs} acks {fleet.Acks} heartbeats {fleet.Heartbeats} refused {fleet.Refused}");
    }

    try
    {
        await Task.Delay(1000, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
}

// The goodbyes must leave before the process does: disposing lingers on them, and the cleanup waits for the lingering.
fleet.Dispose();
NetMQ.NetMQConfig.Cleanup(block: true);
return 0;
