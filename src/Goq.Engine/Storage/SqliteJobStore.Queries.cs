using System.Text;
using System.Text.Json;
using Goq.Protocol;
using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>Reading jobs for clients: pages by ids, states and filter (in SQL, over the job's JSON), and counts per state.</summary>
public sealed partial class SqliteJobStore
{
    public IReadOnlyList<JobInfo> Query(IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states, long afterId = 0, int limit = int.MaxValue,
        JobFilter? filter = null, bool toSend = false)
    {
        // A page: the rows on disk past afterId, enough of them that the staged changes merged in below (which may
        // replace or remove some) still leave a full page.
        var rows = limit == int.MaxValue ? -1 : (long)limit + _dirty.Count;
        var found = ReadRows(_db, ids, states, afterId, rows, filter, toSend);

        // Staged changes are newer than what is on disk.
        foreach (var (id, (job, _)) in _dirty)
        {
            found.Remove(id);
            if (id > afterId && (ids is null || ids.Contains(id)) && (states is null || states.Contains(job.State)) && (filter?.Matches(job) ?? true))
            {
                found[id] = job;
            }
        }

        return found.Values.Take(limit).ToList();
    }

    /// <summary>
    /// The committed rows of a page, by id (see <see cref="Query"/>), at most <paramref name="rows"/> of them (-1: all):
    /// shared by the store's own connection and by <see cref="SqliteJobReader"/>'s.
    /// </summary>
    internal static SortedDictionary<long, JobInfo> ReadRows(SqliteConnection db, IReadOnlyCollection<long>? ids, IReadOnlyCollection<JobState>? states,
        long afterId, long rows, JobFilter? filter, bool toSend, long beforeId = long.MaxValue, bool newestFirst = false)
    {
        var sql = new StringBuilder("SELECT info, id, state FROM jobs WHERE id > $after AND id < $before");
        if (ids is not null)
        {
            sql.Append($" AND id IN ({string.Join(',', ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
        }

        if (states is not null)
        {
            sql.Append($" AND state IN ({string.Join(',', states.Select(s => $"'{s}'"))})");
        }

        var parameters = new List<(string, object?)> { ("$after", afterId), ("$before", beforeId), ("$rows", rows) };
        if (filter is not null)
        {
            AppendFilter(sql, filter, parameters);
        }

        if (filter?.Names is { } names)
        {
            // Registered for this query: the connection is used by one thread, one query at a time.
            var matches = JobFilter.NameMatcher(names);
            db.CreateFunction("job_name_matches", (string? name) => matches(name), isDeterministic: true);
        }

        var found = new SortedDictionary<long, JobInfo>();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql.Append(newestFirst ? " ORDER BY id DESC LIMIT $rows" : " ORDER BY id LIMIT $rows").ToString();
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            // A job that only goes out in a reply is sent as stored; a waiting one may get its Reason filled in.
            var job = toSend && reader.GetString(2) is var state && state != nameof(JobState.Waiting) && Enum.TryParse<JobState>(state, out var parsed)
                ? new JobInfo { Id = reader.GetInt64(1), State = parsed, StoredJson = reader.GetFieldValue<byte[]>(0) }
                : JsonSerializer.Deserialize(reader.GetString(0), GoqJson.JobInfo)!;
            found[job.Id] = job;
        }

        return found;
    }

    public IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded() => CountEnded(_db, null);

    /// <summary>Reads every ended row's queue (a second or two for a million): for a reader's thread, or a store's start.</summary>
    internal static IReadOnlyList<(string Queue, JobState State, long Count)> CountEnded(SqliteConnection db, SqliteTransaction? transaction)
    {
        var found = new List<(string Queue, JobState State, long Count)>();
        var states = string.Join(',', JobStateExtensions.Terminal.Select(s => $"'{s}'"));
        using var cmd = db.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = $"SELECT COALESCE(json_extract(info, '$.Queue'), '{JobSpec.DefaultQueue}'), state, COUNT(*) FROM jobs WHERE state IN ({states}) GROUP BY 1, 2";
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (Enum.TryParse<JobState>(reader.GetString(1), out var state))
            {
                found.Add((reader.GetString(0), state, reader.GetInt64(2)));
            }
        }

        return found;
    }

    public IReadOnlyDictionary<JobState, long> CountStates(IReadOnlyCollection<JobState> states)
    {
        var counts = states.ToDictionary(s => s, _ => 0L);
        using (var cmd = Command("SELECT state, COUNT(*) FROM jobs GROUP BY state")) // over the state index only
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                if (Enum.TryParse<JobState>(reader.GetString(0), out var state) && counts.ContainsKey(state))
                {
                    counts[state] += reader.GetInt64(1);
                }
            }
        }

        // Staged changes: each counts in its new state instead of the one on disk (if any).
        if (_dirty.Count > 0)
        {
            var onDisk = new Dictionary<long, JobState>();
            using var cmd = Command($"SELECT id, state FROM jobs WHERE id IN ({string.Join(',', _dirty.Keys.Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                if (Enum.TryParse<JobState>(reader.GetString(1), out var state))
                {
                    onDisk[reader.GetInt64(0)] = state;
                }
            }

            foreach (var (id, (job, _)) in _dirty)
            {
                if (onDisk.TryGetValue(id, out var was) && counts.ContainsKey(was))
                {
                    counts[was]--;
                }

                if (counts.ContainsKey(job.State))
                {
                    counts[job.State]++;
                }
            }
        }

        return counts;
    }

    /// <summary>The filter in SQL, over the job's JSON: the same test as <see cref="JobFilter.Matches"/>.</summary>
    private static void AppendFilter(StringBuilder sql, JobFilter filter, List<(string, object?)> parameters)
    {
        // Times are stored as the serializer writes them, all in UTC, so they compare as text.
        static string Time(DateTimeOffset at) => JsonSerializer.Serialize(at.ToUniversalTime(), GoqJsonContext.Default.DateTimeOffset).Trim('"');
        if (filter.Since is { } since)
        {
            sql.Append(" AND (json_extract(info, '$.FinishedAt') IS NULL OR json_extract(info, '$.FinishedAt') >= $since)");
            parameters.Add(("$since", Time(since)));
        }

        if (filter.Until is { } until)
        {
            sql.Append(" AND json_extract(info, '$.SubmittedAt') <= $until");
            parameters.Add(("$until", Time(until)));
        }

        if (filter.SubmittedBy is { } by)
        {
            sql.Append(" AND (json_extract(info, '$.SubmittedBy') = $by COLLATE NOCASE");
            if (!by.Contains('@'))
            {
                sql.Append(@" OR json_extract(info, '$.SubmittedBy') LIKE $byUser ESCAPE '\'");
                parameters.Add(("$byUser", by.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "@%"));
            }

            sql.Append(')');
            parameters.Add(("$by", by));
        }

        if (filter.Owner is { } owner)
        {
            sql.Append(" AND json_extract(info, '$.Owner') = $owner");
            parameters.Add(("$owner", owner));
        }

        if (filter.Names is not null)
        {
            sql.Append(" AND job_name_matches(json_extract(info, '$.Name'))");
        }

        if (filter.ArrayTasks == false)
        {
            sql.Append(" AND json_extract(info, '$.ArrayJobId') IS NULL");
        }

        if (filter.Dismissed is { } dismissed)
        {
            // Written only when true: a row without it (every row stored before it existed) was not dismissed.
            sql.Append(dismissed ? " AND json_extract(info, '$.Dismissed') = 1" : " AND COALESCE(json_extract(info, '$.Dismissed'), 0) = 0");
        }

        if (filter.ArrayIndexes is { } indexes)
        {
            sql.Append($" AND json_extract(info, '$.ArrayIndex') IN ({(indexes.Count == 0 ? "NULL" : string.Join(',', indexes.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))))})");
        }

        if (filter.Queues is { } queues)
        {
            var names = queues.Select((_, i) => $"$q{i}").ToList();
            sql.Append($" AND COALESCE(json_extract(info, '$.Queue'), '{JobSpec.DefaultQueue}') IN ({(names.Count == 0 ? "NULL" : string.Join(',', names))})");
            parameters.AddRange(queues.Select((q, i) => ($"$q{i}", (object?)q)));
        }
    }
}
