using System.Management.Automation.Language;

namespace Goq.Runner;

/// <summary>
/// The <c>$using:</c> references of a script block that belong to it (not those inside a nested script block, which
/// belong to whatever that block is handed to, such as ForEach-Object -Parallel within the job). Submit-GoqJob takes
/// their values from the caller's scope; the runner rewrites them into plain variables of the job's runspace.
/// </summary>
public static class UsingVariables
{
    public const string Prefix = "__goqusing_";

    /// <summary>Each reference: the variable's name as written (e.g. <c>x</c>, <c>env:HOME</c>) and where it is.</summary>
    public static IReadOnlyList<(string Name, IScriptExtent Extent)> Find(ScriptBlockAst ast)
    {
        var found = new List<(string, IScriptExtent)>();
        foreach (var node in ast.FindAll(n => n is UsingExpressionAst, searchNestedScriptBlocks: true))
        {
            if (IsNested(node, ast))
            {
                continue;
            }

            var variable = UsingExpressionAst.ExtractUsingVariable((UsingExpressionAst)node);
            var path = variable.VariablePath.UserPath;
            found.Add((path.StartsWith("using:", StringComparison.OrdinalIgnoreCase) ? path[6..] : path, variable.Extent));
        }

        return found;
    }

    /// <summary>The key a value travels under: the name, case-insensitive as PowerShell's are.</summary>
    public static string Key(string name) => name.ToLowerInvariant();

    /// <summary>The script text with each of its <c>$using:x</c> replaced by the variable that holds x's value.</summary>
    public static string Rewrite(string script, ScriptBlockAst ast)
    {
        var references = Find(ast);
        if (references.Count == 0)
        {
            return script;
        }

        var text = new System.Text.StringBuilder(script);
        foreach (var (name, extent) in references.OrderByDescending(r => r.Extent.StartOffset))
        {
            text.Remove(extent.StartOffset, extent.EndOffset - extent.StartOffset);
            text.Insert(extent.StartOffset, "${" + Prefix + Key(name).Replace("}", "`}") + "}");
        }

        return text.ToString();
    }

    private static bool IsNested(Ast node, Ast root)
    {
        for (var parent = node.Parent; parent is not null && parent != root; parent = parent.Parent)
        {
            if (parent is ScriptBlockExpressionAst)
            {
                return true;
            }
        }

        return false;
    }
}
