using System.Globalization;
using System.Text;
using System.Text.Json;
using Goq.Protocol;

namespace Goq.Storage;

/// <summary>How one database reads a field of a job's stored record (JSON): the part of the filter's SQL that differs.</summary>
internal interface IRecordFields
{
    /// <summary>The field as text (null when absent).</summary>
    string Text(string field);

    /// <summary>The field as an integer (null when absent).</summary>
    string Integer(string field);

    /// <summary>True when the field is JSON true.</summary>
    string IsTrue(string field);

    /// <summary>The text of <paramref name="expression"/> equals the parameter's, case aside.</summary>
    string EqualsIgnoringCase(string expression, string parameter);

    /// <summary>The text of <paramref name="expression"/> matches the LIKE pattern in the parameter (escaped with '\'), case aside.</summary>
    string LikeIgnoringCase(string expression, string parameter);

    /// <summary>A condition that the job's name matches one of the filter's names (with what it needs added to <paramref name="parameters"/>).</summary>
    string NameMatches(IReadOnlyList<string> names, List<(string Name, object? Value)> parameters);
}

/// <summary>
/// A page's conditions in SQL (see <see cref="IJobStore.Query"/>), over the job's stored JSON: the same test as
/// <see cref="JobFilter.Matches"/>, for either store. Parameters are named <c>@x</c>, which both providers read.
/// </summary>
internal static class JobFilterSql
{
    /// <summary>The statement that reads a page's rows (<c>info, id, state</c>), with its parameters.</summary>
    public static (string Sql, List<(string Name, object? Value)> Parameters) Page(PageQuery page, IRecordFields fields)
    {
        var sql = new StringBuilder("SELECT info, id, state FROM jobs WHERE id > @after AND id < @before");
        var parameters = new List<(string Name, object? Value)> { ("@after", page.AfterId), ("@before", page.BeforeId) };
        if (page.Ids is not null)
        {
            sql.Append($" AND id IN ({(page.Ids.Count == 0 ? "NULL" : string.Join(',', page.Ids.Select(i => i.ToString(CultureInfo.InvariantCulture))))})");
        }

        if (page.States is not null)
        {
            sql.Append($" AND state IN ({(page.States.Count == 0 ? "NULL" : string.Join(',', page.States.Select(s => $"'{s}'")))})");
        }

        if (page.Filter is not null)
        {
            Append(sql, page.Filter, parameters, fields);
        }

        sql.Append(page.NewestFirst ? " ORDER BY id DESC" : " ORDER BY id");
        if (page.Rows >= 0)
        {
            sql.Append(" LIMIT @rows");
            parameters.Add(("@rows", page.Rows));
        }

        return (sql.ToString(), parameters);
    }

    /// <summary>A page's row: a job that only goes out in a reply is sent as stored; a waiting one may get its Reason filled in.</summary>
    public static JobInfo Job(long id, string state, bool toSend, Func<byte[]> storedBytes, Func<string> storedText) =>
        toSend && state != nameof(JobState.Waiting) && Enum.TryParse<JobState>(state, out var parsed)
            ? new JobInfo { Id = id, State = parsed, StoredJson = storedBytes() }
            : JsonSerializer.Deserialize(storedText(), GoqJson.JobInfo)!;

    private static void Append(StringBuilder sql, JobFilter filter, List<(string, object?)> parameters, IRecordFields fields)
    {
        // Times are stored as the serializer writes them, all in UTC, so they compare as text.
        static string Time(DateTimeOffset at) => JsonSerializer.Serialize(at.ToUniversalTime(), GoqJsonContext.Default.DateTimeOffset).Trim('"');
        if (filter.Since is { } since)
        {
            sql.Append($" AND ({fields.Text("FinishedAt")} IS NULL OR {fields.Text("FinishedAt")} >= @since)");
            parameters.Add(("@since", Time(since)));
        }

        if (filter.Until is { } until)
        {
            sql.Append($" AND {fields.Text("SubmittedAt")} <= @until");
            parameters.Add(("@until", Time(until)));
        }

        if (filter.SubmittedBy is { } by)
        {
            sql.Append($" AND ({fields.EqualsIgnoringCase(fields.Text("SubmittedBy"), "@by")}");
            if (!by.Contains('@'))
            {
                sql.Append($" OR {fields.LikeIgnoringCase(fields.Text("SubmittedBy"), "@byUser")}");
                parameters.Add(("@byUser", by.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "@%"));
            }

            sql.Append(')');
            parameters.Add(("@by", by));
        }

        if (filter.Owner is { } owner)
        {
            sql.Append($" AND {fields.Text("Owner")} = @owner");
            parameters.Add(("@owner", owner));
        }

        if (filter.Names is { } names)
        {
            sql.Append(" AND ").Append(fields.NameMatches(names, parameters));
        }

        if (filter.ArrayTasks == false)
        {
            sql.Append($" AND {fields.Text("ArrayJobId")} IS NULL");
        }

        if (filter.Dismissed is { } dismissed)
        {
            // Written only when true: a row without it (every row stored before it existed) was not dismissed.
            sql.Append(dismissed ? $" AND {fields.IsTrue("Dismissed")}" : $" AND NOT {fields.IsTrue("Dismissed")}");
        }

        if (filter.ArrayIndexes is { } indexes)
        {
            sql.Append($" AND {fields.Integer("ArrayIndex")} IN ({(indexes.Count == 0 ? "NULL" : string.Join(',', indexes.Select(i => i.ToString(CultureInfo.InvariantCulture))))})");
        }

        if (filter.Queues is { } queues)
        {
            var queueParameters = queues.Select((_, i) => $"@q{i}").ToList();
            sql.Append($" AND COALESCE({fields.Text("Queue")}, '{JobSpec.DefaultQueue}') IN ({(queueParameters.Count == 0 ? "NULL" : string.Join(',', queueParameters))})");
            parameters.AddRange(queues.Select((q, i) => ($"@q{i}", (object?)q)));
        }
    }
}
