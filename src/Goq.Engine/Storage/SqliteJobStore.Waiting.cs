using System.Text.Json;
using Goq.Protocol;

namespace Goq.Storage;

/// <summary>
/// A large queue: waiting jobs read back by their place alone after a restart, and whole, a batch at a time, when the
/// scheduler needs them (see <see cref="Server.SchedulerOptions.WholeWaitingJobs"/>).
/// </summary>
public sealed partial class SqliteJobStore
{
    public (IReadOnlyList<(JobInfo Job, JobSpec Spec)> Whole, IReadOnlyList<WaitingPlace> Places) LoadActive(int wholeWaiting)
    {
        Commit(); // whatever is staged is on disk, so the queries see it all
        var places = new List<WaitingPlace>();
        var wholeIds = new List<long>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal); // one string per queue, however many jobs
        // A place is read from the record's bytes as stored: only the few fields it needs are looked at, nothing decoded.
        // (The whole value at once: reading a text column's bytes piecewise cost three times the rest of the read.)
        using (var cmd = Command("SELECT id, info FROM jobs WHERE state = $waiting ORDER BY id", ("$waiting", nameof(JobState.Waiting))))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                if (WaitingPlace.Read(id, reader.GetFieldValue<byte[]>(1), names) is { } place && wholeWaiting-- <= 0)
                {
                    places.Add(place);
                }
                else
                {
                    wholeIds.Add(id);
                }
            }
        }

        var whole = new List<(JobInfo Job, JobSpec Spec)>();
        using (var cmd = Command("SELECT info, spec, env FROM jobs WHERE state IN ($running, $blocked, $held)",
            ("$running", nameof(JobState.Running)), ("$blocked", nameof(JobState.Blocked)), ("$held", nameof(JobState.Held))))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                whole.Add(Whole(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }

        whole.AddRange(ReadWhole(wholeIds));
        whole.Sort((a, b) => a.Job.Id.CompareTo(b.Job.Id));
        return (whole, places);
    }

    public IReadOnlyList<(JobInfo Job, JobSpec Spec)> LoadJobs(IReadOnlyCollection<long> ids)
    {
        var found = new List<(JobInfo, JobSpec)>(ids.Count);
        var fromDisk = new List<long>();
        foreach (var id in ids)
        {
            if (_dirty.TryGetValue(id, out var staged) && staged.Spec is { } spec)
            {
                found.Add((staged.Job.Clone(), spec)); // the caller's own record: what is staged stays as it was given
            }
            else
            {
                fromDisk.Add(id);
            }
        }

        foreach (var (job, spec) in ReadWhole(fromDisk))
        {
            // A change staged since the last commit (no spec staged with it) is newer than the stored record.
            found.Add((_dirty.TryGetValue(job.Id, out var staged) ? staged.Job.Clone() : job, spec));
        }

        return found;
    }

    // Jobs by id, whole, in one statement whatever their number (the ids travel as one JSON array).
    private List<(JobInfo Job, JobSpec Spec)> ReadWhole(List<long> ids)
    {
        var found = new List<(JobInfo, JobSpec)>(ids.Count);
        if (ids.Count == 0)
        {
            return found;
        }

        using var cmd = Command("SELECT info, spec, env FROM jobs WHERE id IN (SELECT value FROM json_each($ids))", ("$ids", $"[{string.Join(',', ids)}]"));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            found.Add(Whole(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return found;
    }

    // A job's record and spec as stored; the strings both hold are held once (a restart must not double a queue's memory).
    private (JobInfo Job, JobSpec Spec) Whole(string info, string specJson, string? envKey)
    {
        var job = JsonSerializer.Deserialize(info, GoqJson.JobInfo)!;
        var spec = JsonSerializer.Deserialize(specJson, GoqJson.JobSpec)!;
        if (envKey is not null)
        {
            spec = spec with { CapturedEnvironment = Environment(envKey) };
        }

        if (job.Command == spec.Command)
        {
            job.Command = spec.Command;
        }

        if (job.WorkingDirectory == spec.WorkingDirectory)
        {
            job.WorkingDirectory = spec.WorkingDirectory;
        }

        return (job, spec);
    }
}
