using System.Text.Json;
using System.Text.Json.Serialization;

namespace Goq.Protocol;

/// <summary>
/// A page of jobs (<see cref="JobsReply.Jobs"/>): a job read from the store for the page is written as the JSON the
/// store holds (the same serializer wrote it), not read into an object and written out again. That round trip was most
/// of what a page of Get-GoqJob cost the server's loop. Read as an ordinary list.
/// </summary>
public sealed class StoredJobsConverter : JsonConverter<IReadOnlyList<JobInfo>>
{
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<JobInfo> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var job in value)
        {
            if (job.StoredJson is { } json)
            {
                writer.WriteRawValue(json, skipInputValidation: true);
            }
            else
            {
                JsonSerializer.Serialize(writer, job, GoqJson.JobInfo);
            }
        }

        writer.WriteEndArray();
    }

    public override IReadOnlyList<JobInfo> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize(ref reader, GoqJson.JobInfoList) ?? throw new JsonException("jobs: a list was expected");
}
