using System.Text;
using System.Text.Json;
using Goq.Storage;

namespace Goq.Monitoring;

/// <summary>
/// The dashboard's data as JSON: the summary and workers from the published snapshot, jobs from the store's committed
/// rows through a read-only connection of its own (newest first, filtered in SQL, a page at a time, so a million jobs
/// cost one indexed page), and a job's output tail from its file. Read-only; nothing here reaches the server's loop.
/// </summary>
/// <param name="scanWindow">Ids a filtered page reads at a time.</param>
/// <param name="maxScan">Ids a filtered page searches at most (its rows' records are read): a few hundred ms at the default.</param>
internal sealed class DashboardApi(ServerMetrics metrics, ActivityHistory history, Func<IJobReader?> openReader, long scanWindow = 50_000, long maxScan = 200_000)
    : IDisposable
{
    public const int MaxPage = 200;

    private const int TailBytes = 16 * 1024;
    private static readonly JobState[] States =
        [JobState.Waiting, JobState.Running, JobState.Blocked, JobState.Held, JobState.Completed, JobState.Failed, JobState.Cancelled, JobState.DependencyFailed];

    private readonly Lock _readerLock = new();
    private IJobReader? _reader;

    public void Summary(Utf8JsonWriter json)
    {
        var snapshot = metrics.Snapshot;
        json.WriteStartObject();
        json.WriteString("at", snapshot.At);
        if (snapshot.At != default)
        {
            var status = snapshot.Status;
            json.WriteStartObject("server");
            json.WriteString("endpoint", status.Endpoint);
            json.WriteString("host", status.ServerHost);
            json.WriteNumber("pid", status.ServerPid);
            json.WriteString("version", status.Version);
            json.WriteString("startedAt", status.StartedAt);
            json.WriteNumber("nextJobId", status.NextJobId);
            json.WriteNumber("storeBytes", status.StoreBytes ?? 0);
            json.WriteEndObject();
        }

        json.WriteStartObject("states");
        foreach (var state in States)
        {
            json.WriteNumber(ServerMetrics.StateLabel(state), snapshot.Count(state));
        }

        json.WriteEndObject();
        json.WriteStartArray("queues");
        foreach (var queue in snapshot.Jobs.GroupBy(j => j.Key.Queue).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("name", queue.Key);
            foreach (var (key, count) in queue)
            {
                json.WriteNumber(ServerMetrics.StateLabel(key.State), count);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("workers", snapshot.Workers.Count);
        json.WriteNumber("busySlots", snapshot.BusySlots);
        json.WriteNumber("idleSlots", snapshot.Status.WaitingWorkers);
        json.WriteNumber("submitted", snapshot.Submitted);
        json.WriteNumber("started", snapshot.Started);
        json.WriteStartArray("history"); // [unix seconds, ended so far, waiting, running]
        foreach (var sample in history.Read(snapshot))
        {
            json.WriteStartArray();
            json.WriteNumberValue(sample.At.ToUnixTimeMilliseconds() / 1000.0);
            json.WriteNumberValue(sample.Ended);
            json.WriteNumberValue(sample.Waiting);
            json.WriteNumberValue(sample.Running);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public void Workers(Utf8JsonWriter json)
    {
        json.WriteStartArray();
        foreach (var worker in metrics.Snapshot.Workers)
        {
            json.WriteStartObject();
            json.WriteString("id", worker.Id);
            json.WriteString("host", worker.Host);
            json.WriteNumber("pid", worker.Pid);
            json.WriteNumber("slots", worker.Slots);
            json.WriteNumber("busySlots", worker.BusySlots);
            json.WriteString("queues", string.Join(", ", worker.Queues));
            json.WriteString("labels", string.Join(", ", worker.Labels));
            json.WriteString("connectedAt", worker.ConnectedAt);
            json.WriteString("lastSeen", worker.LastSeen);
            json.WriteString("running", string.Join(", ", worker.RunningJobs));
            json.WriteString("version", worker.Version);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>A page of jobs, newest first: those below <paramref name="beforeId"/> that match; <c>next</c> is the id to ask below for the next page.</summary>
    public void Jobs(Utf8JsonWriter json, JobState? state, string? name, string? queue, long beforeId, int limit)
    {
        limit = Math.Clamp(limit, 1, MaxPage);
        var filter = name is null && queue is null ? null : new JobFilter
        {
            Names = name is null ? null : [name.Contains('*') || name.Contains('?') ? name : $"*{name}*"],
            Queues = queue is null ? null : [queue],
        };
        JobState[]? states = state is { } s ? [s] : null;
        long? searchedTo = null;
        var page = Read(reader =>
        {
            if (filter is null)
            {
                return reader.Newest(states, beforeId, limit + 1, null); // by id, or the state index: a page costs a page
            }

            // A name or queue is read from each row's record: search back a window of ids at a time, and stop after
            // MaxScan ids, so a filter that matches little answers in bounded time; "next" then goes on from there.
            var found = new List<JobInfo>();
            // From just above the newest id (the snapshot is up to a tick old: a margin for the jobs submitted since).
            var margin = Math.Min(1024, scanWindow);
            var top = Math.Min(beforeId, (metrics.Snapshot.At == default ? long.MaxValue - margin : metrics.Snapshot.Status.NextJobId) + margin);
            for (var scanned = 0L; found.Count <= limit && top > 1 && scanned < maxScan; scanned += scanWindow)
            {
                var floor = Math.Max(0, top - 1 - scanWindow);
                found.AddRange(reader.Newest(states, top, limit + 1 - found.Count, filter, afterId: floor));
                top = floor + 1;
            }

            searchedTo = found.Count <= limit && top > 1 ? top : null;
            return found;
        });
        json.WriteStartObject();
        json.WriteStartArray("jobs");
        foreach (var job in page.Take(limit))
        {
            json.WriteStartObject();
            json.WriteNumber("id", job.Id);
            json.WriteString("name", job.Name);
            json.WriteString("state", ServerMetrics.StateLabel(job.State));
            json.WriteString("queue", job.Queue);
            json.WriteString("command", Shorten(CommandLine(job), 200));
            json.WriteString("submittedAt", job.SubmittedAt);
            WriteTime(json, "startedAt", job.StartedAt);
            WriteTime(json, "finishedAt", job.FinishedAt);
            if (job.ExitCode is { } code)
            {
                json.WriteNumber("exitCode", code);
            }

            json.WriteString("worker", job.Worker);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (page.Count > limit)
        {
            json.WriteNumber("next", page[limit - 1].Id);
        }
        else if (searchedTo is { } to)
        {
            json.WriteNumber("next", to); // searched down to here without filling the page: the next page searches on
            json.WriteNumber("searchedTo", to);
        }

        json.WriteEndObject();
    }

    /// <summary>One job whole, and the tail of its output; false when there is no such job.</summary>
    public bool Job(Utf8JsonWriter json, long id)
    {
        var found = Read(reader => reader.Newest(null, id == long.MaxValue ? id : id + 1, 1, null));
        if (found.Count == 0 || found[0].Id != id)
        {
            return false;
        }

        var job = found[0];
        json.WriteStartObject();
        json.WritePropertyName("job");
        JsonSerializer.Serialize(json, job, Protocol.GoqJson.JobInfo);
        json.WriteString("commandLine", CommandLine(job));
        json.WriteString("outputTail", Tail(job.OutputPath));
        json.WriteEndObject();
        return true;
    }

    private IReadOnlyList<JobInfo> Read(Func<IJobReader, IReadOnlyList<JobInfo>> query)
    {
        // One connection, one query at a time: SQLite connections are not for two threads at once.
        lock (_readerLock)
        {
            _reader ??= openReader();
            return _reader is null ? [] : query(_reader);
        }
    }

    private static string CommandLine(JobInfo job) =>
        job.ArgumentList.Length == 0 ? job.Command : $"{job.Command} {string.Join(' ', job.ArgumentList)}";

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>The last lines of a job's output file (the server's copy), whole lines only.</summary>
    private static string Tail(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return "";
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, file.Length - TailBytes);
            file.Position = start;
            var buffer = new byte[file.Length - start];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            return start > 0 && text.IndexOf('\n') is var newline and >= 0 ? text[(newline + 1)..] : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        lock (_readerLock)
        {
            _reader?.Dispose();
        }
    }
}
