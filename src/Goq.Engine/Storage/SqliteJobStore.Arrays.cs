using System.Text.Json;
using Goq.Protocol;
using Microsoft.Data.Sqlite;

namespace Goq.Storage;

/// <summary>
/// Array jobs: each array's own record and its spec (with every index) in one row of <c>arrays</c>, written once; its
/// tasks are rows of <c>jobs</c>, written as the scheduler makes them (ids right after the array's own).
/// </summary>
public sealed partial class SqliteJobStore
{
    private readonly Dictionary<long, (JobInfo Array, JobSpec? Spec)> _dirtyArrays = new();

    // Every array's id, so asking whether an id is an array (every id a client names is asked) costs no query.
    private readonly HashSet<long> _arrayIds = [];

    public void InsertArray(JobInfo array, JobSpec spec)
    {
        _dirtyArrays[array.Id] = (array, spec);
        _arrayIds.Add(array.Id);
    }

    public void UpdateArray(JobInfo array) =>
        _dirtyArrays[array.Id] = (array, _dirtyArrays.TryGetValue(array.Id, out var staged) ? staged.Spec : null);

    public (JobInfo Array, JobSpec Spec)? GetArray(long id)
    {
        if (!_arrayIds.Contains(id))
        {
            return null;
        }

        if (_dirtyArrays.TryGetValue(id, out var staged) && staged.Spec is not null)
        {
            return (staged.Array, staged.Spec);
        }

        using var cmd = Command("SELECT info, spec, env FROM arrays WHERE id = $id", ("$id", id));
        using var reader = cmd.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var (array, spec) = ReadArray(reader);
        return (staged.Array ?? array, spec);
    }

    public IReadOnlyList<(JobInfo Array, JobSpec Spec, IReadOnlyList<(long Id, JobState State)> Tasks)> LoadActiveArrays()
    {
        Commit();
        var arrays = new List<(JobInfo, JobSpec)>();
        using (var cmd = Command("SELECT info, spec, env FROM arrays WHERE state NOT IN ($c, $f, $x, $d) ORDER BY id",
                   ("$c", nameof(JobState.Completed)), ("$f", nameof(JobState.Failed)), ("$x", nameof(JobState.Cancelled)), ("$d", nameof(JobState.DependencyFailed))))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                arrays.Add(ReadArray(reader));
            }
        }

        var loaded = new List<(JobInfo, JobSpec, IReadOnlyList<(long, JobState)>)>();
        foreach (var (array, spec) in arrays)
        {
            // The tasks made so far: ids right after the array's own, found by the primary key.
            var tasks = new List<(long, JobState)>();
            using var cmd = Command("SELECT id, state FROM jobs WHERE id > $first AND id <= $last ORDER BY id",
                ("$first", array.Id), ("$last", array.Id + (array.TaskCount ?? 0)));
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                tasks.Add((reader.GetInt64(0), Enum.Parse<JobState>(reader.GetString(1))));
            }

            loaded.Add((array, spec, tasks));
        }

        return loaded;
    }

    public void RemoveArray(long id)
    {
        Commit();
        using var cmd = Command("DELETE FROM arrays WHERE id = $id", ("$id", id));
        cmd.ExecuteNonQuery();
        _arrayIds.Remove(id);
    }

    private void LoadArrayIds()
    {
        using var cmd = Command("SELECT id FROM arrays");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            _arrayIds.Add(reader.GetInt64(0));
        }
    }

    private void CommitArrays(SqliteTransaction tx, HashSet<string> written)
    {
        foreach (var (id, (array, spec)) in _dirtyArrays)
        {
            var info = JsonSerializer.Serialize(array, GoqJson.JobInfo);
            using var cmd = spec is null
                ? Command("UPDATE arrays SET state = $state, info = $info WHERE id = $id", ("$id", id), ("$state", array.State.ToString()), ("$info", info))
                : Command("INSERT INTO arrays (id, state, info, spec, env) VALUES ($id, $state, $info, $spec, $env) " +
                          "ON CONFLICT(id) DO UPDATE SET state = excluded.state, info = excluded.info",
                    ("$id", id), ("$state", array.State.ToString()), ("$info", info),
                    ("$spec", JsonSerializer.Serialize(spec with { CapturedEnvironment = null }, GoqJson.JobSpec)),
                    ("$env", EnvironmentKey(spec.CapturedEnvironment)));
            cmd.Transaction = tx;
            // Forgotten only once committed (see Commit): a failed commit (a full disk) writes it again.
            if (spec is not null && EnvironmentKey(spec.CapturedEnvironment) is { } key && _newEnvironments.TryGetValue(key, out var json) && written.Add(key))
            {
                using var env = Command("INSERT OR IGNORE INTO environments (key, json) VALUES ($k, $j)", ("$k", key), ("$j", json));
                env.Transaction = tx;
                env.ExecuteNonQuery();
            }

            cmd.ExecuteNonQuery();
        }
    }

    private (JobInfo Array, JobSpec Spec) ReadArray(SqliteDataReader reader)
    {
        var array = JsonSerializer.Deserialize(reader.GetString(0), GoqJson.JobInfo)!;
        var spec = JsonSerializer.Deserialize(reader.GetString(1), GoqJson.JobSpec)!;
        return (array, reader.IsDBNull(2) ? spec : spec with { CapturedEnvironment = Environment(reader.GetString(2)) });
    }
}
