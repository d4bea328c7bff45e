using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Goq.Protocol;

/// <summary>
/// The JSON of messages and stored job records: <see cref="GoqJsonContext"/>'s metadata with one change: a job's
/// field that holds what a new <see cref="JobInfo"/> or <see cref="JobSpec"/> holds is left out (<c>"Hold":false</c>,
/// <c>"ArgumentList":[]</c>, <c>"Queue":"default"</c>, ...), since reading the record back gives it again. That is about a
/// third of a typical record: every page of Get-GoqJob, every dispatch and every stored row is that much smaller, and
/// reading one is about twice as fast. Files a person reads (the config) keep every field.
/// </summary>
public static class GoqJson
{
    public static JsonSerializerOptions Options { get; } = new(GoqJsonContext.Default.Options)
    {
        TypeInfoResolver = GoqJsonContext.Default.WithAddedModifier(LeaveOutDefaults),
    };

    public static JsonTypeInfo<Envelope> Envelope { get; } = Info<Envelope>();

    public static JsonTypeInfo<JobInfo> JobInfo { get; } = Info<JobInfo>();

    public static JsonTypeInfo<JobSpec> JobSpec { get; } = Info<JobSpec>();

    public static JsonTypeInfo<JobsReply> JobsReply { get; } = Info<JobsReply>();

    public static JsonTypeInfo<IReadOnlyList<JobInfo>> JobInfoList { get; } = Info<IReadOnlyList<JobInfo>>();

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    private static void LeaveOutDefaults(JsonTypeInfo type)
    {
        if (typeof(IListReply).IsAssignableFrom(type.Type))
        {
            // Worked out from the lists when needed, never read.
            foreach (var count in type.Properties.Where(p => p.Name == nameof(IListReply.ItemCount)))
            {
                count.ShouldSerialize = static (_, _) => false;
            }

            return;
        }

        // Only types read through their parameterless constructor: a field left out that has a setter keeps the value
        // the constructor gave it, which is the value it was left out for. An init-only one is set with the others when
        // the object is made, and one left out gets default(T) instead: it is left out only when that is its value.
        object? fresh = type.Type == typeof(JobInfo) ? new JobInfo() : type.Type == typeof(JobSpec) ? new JobSpec() : null;
        if (fresh is null)
        {
            return;
        }

        foreach (var property in type.Properties)
        {
            if (property.Get is not { } get || property.Set is null || get(fresh) is not { } initial)
            {
                continue; // null is left out already (WhenWritingNull)
            }

            if (IsInitOnly(type.Type, property.Name) && !(initial.GetType().IsValueType && initial.Equals(Activator.CreateInstance(initial.GetType()))))
            {
                continue;
            }

            property.ShouldSerialize = initial switch
            {
                ICollection { Count: 0 } => static (_, value) => value is not null && !IsEmpty(value),
                _ when initial is string || initial.GetType().IsValueType => (_, value) => value is not null && !initial.Equals(value),
                _ => property.ShouldSerialize,
            };
        }
    }

    private static bool IsInitOnly(Type type, string name) =>
        type.GetProperty(name)?.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)) == true;

    private static bool IsEmpty(object value) => value is ICollection collection ? collection.Count == 0 : value is IEnumerable items && !items.GetEnumerator().MoveNext();
}
