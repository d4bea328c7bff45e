using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Goq.Runner;

namespace Goq.Cmdlets;

/// <summary>
/// What a script-block job takes with it from the submitter: its arguments, its input record and the values of its
/// <c>$using:</c> references, serialized together as CliXml (the remoting serializer, so they arrive as Start-Job's
/// do). The <c>$using:</c> values are read once, when the pipeline starts.
/// </summary>
internal sealed class ScriptJobData
{
    private readonly Hashtable _using;
    private readonly int _depth;

    private ScriptJobData(Hashtable usingValues, int depth)
    {
        _using = usingValues;
        _depth = depth;
    }

    /// <summary>Reads the <c>$using:</c> values from <paramref name="state"/> (the caller's scope); <paramref name="missing"/> names one that does not exist.</summary>
    public static ScriptJobData Capture(ScriptBlock script, SessionState state, int depth, out string? missing)
    {
        missing = null;
        var values = new Hashtable(StringComparer.OrdinalIgnoreCase);
        if (script.Ast is ScriptBlockAst ast)
        {
            foreach (var (name, _) in UsingVariables.Find(ast))
            {
                var key = UsingVariables.Key(name);
                if (values.ContainsKey(key))
                {
                    continue;
                }

                if (name.StartsWith("env:", StringComparison.OrdinalIgnoreCase))
                {
                    values[key] = Environment.GetEnvironmentVariable(name[4..]);
                    continue;
                }

                if (state.PSVariable.Get(name) is not { } variable)
                {
                    missing = name;
                    break;
                }

                values[key] = variable.Value;
            }
        }

        return new ScriptJobData(values, depth);
    }

    /// <summary>
    /// One job's data. A value the serializer cannot take is sent as its string form, with a warning. Data the runner
    /// could not read back (nested deeper than the deserializer reads, as Start-Job refuses it) throws
    /// GoqArgumentNotSerializable, naming the value and its depth: the job is refused, never run without it.
    /// </summary>
    public string Serialize(object?[] arguments, bool hasInput, object? input, Action<string> warn)
    {
        var xml = SerializeAll(arguments, hasInput, input, warn);
        if (xml.Length < MinDeepXml)
        {
            return xml; // too short to nest that deep: not read back, so a pipeline of small records costs nothing more
        }

        try
        {
            _ = PSSerializer.Deserialize(xml); // Guarantee point: what the runner will read, read here first
            return xml;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var parts = arguments.Select((a, i) => ($"argument {i + 1}", a)).ToList();
            if (hasInput)
            {
                parts.Add(("the input object", input));
            }

            foreach (DictionaryEntry entry in _using)
            {
                parts.Add(($"$using:{entry.Key}", entry.Value));
            }

            var (what, value) = parts.OrderByDescending(p => DepthOf(p.Item2, 0)).FirstOrDefault();
            var named = what is null ? "the job's data" : $"{what} ({(value is PSObject wrapped ? wrapped.BaseObject : value)?.GetType().FullName}, nested {DepthOf(value, 0)} levels deep)";
            throw new Errors.GoqException(Errors.GoqErrorIds.ArgumentNotSerializable, Errors.GoqErrorKind.InvalidArgument,
                $"{named} cannot be carried to the job: it could not be read back ({ex.InnerException?.Message ?? ex.Message}); the deserializer reads objects nested about 50 levels deep at most, as Start-Job's");
        }
    }

    // Each level of nesting takes at least about 50 characters of CliXml (an Obj, its type reference, a container and
    // their ends): data shorter than this cannot reach the deserializer's 50 levels.
    private const int MinDeepXml = 1500;

    /// <summary>How deeply collections and objects nest in <paramref name="value"/> (0 for a plain value); stops counting at 200.</summary>
    private static int DepthOf(object? value, int level) => DepthOf(value, level, new Dictionary<object, int>(ReferenceEqualityComparer.Instance));

    // Each object is measured once (data that shares parts would otherwise cost exponential time).
    private static int DepthOf(object? value, int level, Dictionary<object, int> seen)
    {
        if (level >= 200)
        {
            return 0;
        }

        if (value is not null && seen.TryGetValue(value, out var known))
        {
            return known;
        }

        var inner = value is PSObject wrapped ? wrapped.BaseObject : value;
        IEnumerable? children = inner switch
        {
            string => null,
            IDictionary dictionary => dictionary.Values,
            IEnumerable items => items,
            PSCustomObject when value is PSObject custom => custom.Properties.Select(p => p.Value),
            _ => null,
        };
        if (children is null)
        {
            return 0;
        }

        seen[value!] = 0; // a cycle counts as no deeper
        var deepest = 0;
        foreach (var child in children)
        {
            deepest = Math.Max(deepest, DepthOf(child, level + 1, seen));
        }

        return seen[value!] = 1 + deepest;
    }

    private string SerializeAll(object?[] arguments, bool hasInput, object? input, Action<string> warn)
    {
        var table = new Hashtable { ["a"] = arguments, ["u"] = _using };
        if (hasInput)
        {
            table["i"] = input;
        }

        try
        {
            // The table and the argument array are two levels of their own: the values keep the depth asked for.
            return PSSerializer.Serialize(table, _depth + 2);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            string Safe(object? value, string what)
            {
                try
                {
                    _ = PSSerializer.Serialize(value, _depth);
                    return null!;
                }
                catch (Exception inner) when (inner is not OutOfMemoryException)
                {
                    warn($"{what} ({value?.GetType().FullName}) cannot be serialized ({inner.Message}); the job gets its string form");
                    return value?.ToString() ?? "";
                }
            }

            var safeArguments = arguments.Select((a, i) => Safe(a, $"argument {i + 1}") ?? a).ToArray();
            var safeUsing = new Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in _using)
            {
                safeUsing[entry.Key] = Safe(entry.Value, $"$using:{entry.Key}") ?? entry.Value;
            }

            table = new Hashtable { ["a"] = safeArguments, ["u"] = safeUsing };
            if (hasInput)
            {
                table["i"] = Safe(input, "the input object") ?? input;
            }

            return PSSerializer.Serialize(table, _depth + 2);
        }
    }
}
