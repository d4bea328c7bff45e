using System.Text.Json;

namespace Goq.Protocol;

/// <summary>
/// How many bytes a job takes in a message. <see cref="UpperBound"/> is cheap and never less than the JSON (every
/// character counted as its longest escape, six bytes), so a batch gathered by it always fits; <see cref="Exact"/>
/// serializes, for the rare job whose bound is near the limit.
/// </summary>
public static class JobSizes
{
    // Field names, quotes, commas and numbers of one spec, generously.
    private const int SpecOverhead = 512;
    private const int EntryOverhead = 8;
    private const int MaxEscape = 6;

    public static long UpperBound(JobSpec spec)
    {
        long chars = spec.Command.Length + (spec.Name?.Length ?? 0) + (spec.WorkingDirectory?.Length ?? 0) + spec.SubmittedBy.Length;
        long entries = spec.ArgumentList.Count;
        foreach (var argument in spec.ArgumentList)
        {
            chars += argument.Length;
        }

        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            chars += name.Length + value.Length;
            entries++;
        }

        foreach (var label in spec.Require)
        {
            chars += label.Length;
            entries++;
        }

        chars += spec.Queue.Length + (spec.ScriptData?.Length ?? 0);

        // Numbers: an index takes at most 11 characters and a comma, a job id at most 20 and a comma.
        return SpecOverhead + (MaxEscape * chars) + (EntryOverhead * entries) + (12L * (spec.ArrayIndex?.Count ?? 0)) + (21L * spec.DependsOn.Count);
    }

    /// <summary>An environment's bound, for the one a batch shares.</summary>
    public static long UpperBound(IReadOnlyDictionary<string, string>? environment)
    {
        long total = EntryOverhead;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            total += EntryOverhead + (MaxEscape * ((long)name.Length + value.Length));
        }

        return total;
    }

    /// <summary>The spec's JSON, with its captured environment when it carries one.</summary>
    public static long Exact(JobSpec spec) => JsonSerializer.SerializeToUtf8Bytes(spec, GoqJson.JobSpec).Length;

    /// <summary>The environment's JSON.</summary>
    public static long Exact(IReadOnlyDictionary<string, string>? environment) =>
        environment is null ? 0 : JsonSerializer.SerializeToUtf8Bytes(environment.ToDictionary(), GoqJsonContext.Default.DictionaryStringString).Length;
}
