using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>
/// Lets a job cmdlet's <c>-Id</c> take Goq job ids, <c>Goq.JobInfo</c> objects (also deserialized ones) and
/// <c>Goq.GoqJob</c> objects, from the pipeline or as arguments, and refuses any other object, so that the Id of a
/// Start-Job job (or anything else with an Id) is never taken for a Goq job's.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class GoqJobIdsAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        if (inputData is null)
        {
            return null;
        }

        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is IEnumerable items and not string)
        {
            return items.Cast<object?>().Select(One).ToArray();
        }

        return new[] { One(inputData) };
    }

    // Text that is not a number is passed on as it is: the binder's own conversion then reports it, as for any long.
    private static object One(object? item)
    {
        var wrapped = item as PSObject;
        var value = wrapped?.BaseObject ?? item ?? throw new ArgumentTransformationMetadataException("an empty (null) id is not a Goq job");
        switch (value)
        {
            case long or int or short or byte or uint or ushort or sbyte:
                return Convert.ToInt64(value, CultureInfo.InvariantCulture);
            case ulong big when big <= long.MaxValue:
                return (long)big;
            case string text:
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : text;
            case JobInfo job:
                return job.Id;
        }

        // A Goq job seen through the serializer (Import-Clixml, Start-Job), or a Goq.GoqJob: known by its type names.
        var names = wrapped?.TypeNames ?? PSObject.AsPSObject(value!).TypeNames;
        var self = wrapped ?? PSObject.AsPSObject(value!);
        if (names.Any(n => n is "Goq.GoqJob" or "Deserialized.Goq.GoqJob") && self.Properties["GoqId"]?.Value is { } goqId)
        {
            return Convert.ToInt64(goqId, CultureInfo.InvariantCulture);
        }

        if (names.Any(n => n is "Goq.JobInfo" or "Deserialized.Goq.JobInfo") && self.Properties["Id"]?.Value is { } id)
        {
            return Convert.ToInt64(id, CultureInfo.InvariantCulture);
        }

        throw new ArgumentTransformationMetadataException(
            $"a {names.FirstOrDefault() ?? value?.GetType().FullName} is not a Goq job: give Goq job ids, or the Goq.JobInfo objects that Get-GoqJob and Submit-GoqJob return");
    }
}
