using System.Text.Json;

namespace Goq.Storage;

/// <summary>
/// A waiting job by its place in the queue alone: what the scheduler needs to order it and match it to workers (its
/// class: queue, slots, labels), without its command, spec or record, which stay in the store until it nears the head.
/// </summary>
public readonly record struct WaitingPlace(long Id, int Priority, string Queue, int SlotCount, string[] Require)
{
    /// <summary>
    /// A job that may be kept by its place alone: waiting for a slot and nothing else (no dependencies, no time, not an
    /// array's task, which its array keeps), so placing it again after a restart needs nothing but its place.
    /// </summary>
    public static bool IsPlain(JobInfo job) =>
        job.State == JobState.Waiting && job.DependsOn.Length == 0 && job.NotBefore is null && job.ArrayJobId is null && !job.Hold;

    /// <summary>
    /// The place of a stored job record (<see cref="JobInfo"/> as JSON), read without decoding the record: only the
    /// fields a place needs are looked at. Null when the job is not plain (see <see cref="IsPlain"/>).
    /// <paramref name="names"/> holds one string per queue name, however many jobs name it.
    /// </summary>
    public static WaitingPlace? Read(long id, ReadOnlySpan<byte> info, Dictionary<string, string> names)
    {
        var reader = new Utf8JsonReader(info);
        reader.Read(); // the record's {
        int priority = 0, slots = 1;
        string queue = JobSpec.DefaultQueue;
        string[] require = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("Priority"u8))
            {
                priority = reader.GetInt32();
            }
            else if (name.SequenceEqual("SlotCount"u8))
            {
                slots = reader.GetInt32();
            }
            else if (name.SequenceEqual("Queue"u8))
            {
                var text = reader.GetString() ?? JobSpec.DefaultQueue;
                queue = names.TryGetValue(text, out var known) ? known : names[text] = text;
            }
            else if (name.SequenceEqual("Require"u8))
            {
                require = Strings(ref reader);
            }
            else if (name.SequenceEqual("State"u8))
            {
                if (!reader.ValueTextEquals("Waiting"u8))
                {
                    return null;
                }
            }
            else if (name.SequenceEqual("DependsOn"u8))
            {
                if (reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    return null;
                }
            }
            else if (name.SequenceEqual("Hold"u8))
            {
                if (reader.TokenType == JsonTokenType.True)
                {
                    return null;
                }
            }
            else if ((name.SequenceEqual("NotBefore"u8) || name.SequenceEqual("ArrayJobId"u8)) && reader.TokenType != JsonTokenType.Null)
            {
                return null;
            }
            else
            {
                reader.Skip(); // any other field, nested or not
            }
        }

        return new WaitingPlace(id, priority, queue, slots, require);
    }

    private static string[] Strings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return [];
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            list.Add(reader.GetString()!);
        }

        return list.Count == 0 ? [] : [.. list];
    }
}
