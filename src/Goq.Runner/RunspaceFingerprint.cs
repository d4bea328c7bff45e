using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace Goq.Runner;

/// <summary>
/// What a job could leave in a runspace that <see cref="Runspace.ResetRunspaceState"/> does not undo: the global
/// scope's functions, aliases, drives and cmdlets (each entry and what it holds, so a redefined function counts),
/// the loaded modules and providers, strict mode, the language mode and the jobs the runspace knows. ResetRunspaceState
/// resets the variables, the location, events and breakpoints. The tables are PowerShell's own non-public ones; where
/// they cannot be read there is no fingerprint, and then a runspace is never reused.
/// </summary>
internal sealed class RunspaceFingerprint
{
    private const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private static readonly string[] ScopeTables = ["_functions", "_alias", "_drives", "_cmdlets", "_allScopeFunctions", "_allScopeCmdlets"];
    private readonly object?[] _tokens;

    private RunspaceFingerprint(object?[] tokens) => _tokens = tokens;

    public static RunspaceFingerprint? Take(Runspace runspace)
    {
        try
        {
            var context = Required(runspace, "ExecutionContext");
            var state = Required(context, "EngineSessionState");
            var global = Required(state, "GlobalScope");
            var tokens = new List<object?>(1024);
            foreach (var name in ScopeTables)
            {
                Add(tokens, Optional(global, name) as IDictionary, required: name is "_functions" or "_alias" or "_drives");
            }

            Add(tokens, Required(state, "ModuleTable") as IDictionary, required: true);
            Add(tokens, Required(state, "Providers") as IDictionary, required: true);
            tokens.Add(Optional(global, "StrictModeVersion"));
            tokens.Add(runspace.SessionStateProxy.LanguageMode);
            tokens.Add((Optional(Optional(runspace, "JobRepository"), "Jobs") as ICollection)?.Count);
            return new RunspaceFingerprint([.. tokens]);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null; // Checkpoint: what cannot be checked is never reused
        }
    }

    public bool Matches(RunspaceFingerprint other) =>
        _tokens.Length == other._tokens.Length && _tokens.Zip(other._tokens).All(pair => Equals(pair.First, pair.Second));

    private static void Add(List<object?> tokens, IDictionary? table, bool required)
    {
        if (table is null)
        {
            if (required)
            {
                throw new MissingMemberException("a session state table is not where it was");
            }

            tokens.Add(null);
            return;
        }

        tokens.Add(table.Count);
        foreach (DictionaryEntry entry in table)
        {
            tokens.Add(entry.Key);
            tokens.Add(entry.Value);
            tokens.Add(entry.Value switch
            {
                FunctionInfo function => function.ScriptBlock, // a function redefined in place keeps its FunctionInfo
                AliasInfo alias => alias.Definition,
                PSDriveInfo drive => drive.Root,
                ICollection list => list.Count,
                _ => null,
            });
        }
    }

    // Looked up once per type and member: this runs after every job.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Type Type, string Name), Func<object?, object?>?> Getters = new();

    private static object? Optional(object? target, string name)
    {
        if (target is null)
        {
            return null;
        }

        var getter = Getters.GetOrAdd((target.GetType(), name), key =>
            key.Type.GetProperty(key.Name, Any) is { } property ? property.GetValue
            : key.Type.GetField(key.Name, Any) is { } field ? field.GetValue
            : null);
        return getter?.Invoke(target);
    }

    private static object Required(object? target, string name) => Optional(target, name) ?? throw new MissingMemberException(name);
}
