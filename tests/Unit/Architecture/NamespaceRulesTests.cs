using System.Text.RegularExpressions;

namespace Goq.Tests.Architecture;

/// <summary>
/// The engine's namespaces depend on each other in one direction only, as the table below allows: an architecture
/// fitness test. It reads the sources (every file's namespace, its <c>using Goq.X</c> lines, its qualified names such
/// as <c>Hosting.ServerHost</c>, and the types of an enclosing namespace it uses without either, as code in
/// <c>Goq.Server.Scheduling</c> may use <c>Goq.Server</c>'s; comments and strings left out) and fails on an import the
/// table does not allow and on any cycle. A new dependency is a decision: make it in the table, where the next
/// engineer sees it.
/// </summary>
public sealed partial class NamespaceRulesTests
{
    /// <summary>What each namespace may use, lowest layers first. Goq itself (the model: jobs, specs, states) uses none.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Goq"] = [],
        ["Goq.Errors"] = ["Goq"],
        ["Goq.Platform"] = ["Goq", "Goq.Errors"],
        ["Goq.Identity"] = ["Goq", "Goq.Errors"],
        ["Goq.Diagnostics"] = ["Goq", "Goq.Platform"],
        ["Goq.Timing"] = ["Goq", "Goq.Diagnostics"],
        ["Goq.Configuration"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Identity"],
        ["Goq.Protocol"] = ["Goq", "Goq.Errors", "Goq.Timing", "Goq.Identity"],
        ["Goq.Transport"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Configuration", "Goq.Protocol", "Goq.Identity"],
        ["Goq.Output"] = ["Goq", "Goq.Errors", "Goq.Protocol", "Goq.Platform"],
        ["Goq.Storage"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Configuration", "Goq.Protocol", "Goq.Identity"],
        // The PostgreSQL store and its lease: the rows of Goq.Storage's staged store, on a database several servers share.
        ["Goq.Storage.Postgres"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Configuration", "Goq.Protocol", "Goq.Storage"],
        ["Goq.Monitoring"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Configuration", "Goq.Protocol", "Goq.Storage"],
        ["Goq.Client"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Timing", "Goq.Configuration", "Goq.Protocol", "Goq.Transport",
            "Goq.Output", "Goq.Monitoring", "Goq.Identity"],
        ["Goq.Worker"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Timing", "Goq.Configuration", "Goq.Protocol", "Goq.Transport",
            "Goq.Output", "Goq.Storage"],
        ["Goq.Server"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Timing", "Goq.Configuration", "Goq.Protocol", "Goq.Transport",
            "Goq.Output", "Goq.Storage", "Goq.Monitoring", "Goq.Server.Scheduling", "Goq.Server.Queries", "Goq.Server.OutputStore", "Goq.Identity",
            "Goq.Server.Access"],

        // Who may do what: the role table's answers (Goq.Identity) for each request, the users and their keys.
        ["Goq.Server.Access"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Identity", "Goq.Protocol", "Goq.Transport", "Goq.Storage"],

        // The server's parts: its loop and handlers (Goq.Server) use them; the scheduler uses none of the others.
        ["Goq.Server.Scheduling"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Timing", "Goq.Configuration", "Goq.Protocol", "Goq.Transport",
            "Goq.Storage"],
        ["Goq.Server.OutputStore"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Configuration", "Goq.Protocol", "Goq.Output",
            "Goq.Storage"],
        ["Goq.Server.Queries"] = ["Goq", "Goq.Errors", "Goq.Diagnostics", "Goq.Timing", "Goq.Protocol", "Goq.Transport", "Goq.Storage",
            "Goq.Server.Scheduling", "Goq.Server.OutputStore"],
        ["Goq.Hosting"] = ["Goq", "Goq.Errors", "Goq.Platform", "Goq.Diagnostics", "Goq.Timing", "Goq.Output", "Goq.Protocol", "Goq.Transport",
            "Goq.Configuration", "Goq.Storage", "Goq.Storage.Postgres", "Goq.Client", "Goq.Worker", "Goq.Server", "Goq.Server.Scheduling", "Goq.Monitoring"],
    };

    [Fact]
    public void EveryImport_GoesTheWayTheTableAllows()
    {
        var graph = Graph();
        var wrong = graph.SelectMany(n => n.Value.Select(d => (From: n.Key, To: d.Key, Where: d.Value)))
            .Where(e => !Allowed.TryGetValue(e.From, out var allowed) || !allowed.Contains(e.To))
            .Select(e => $"{e.From} -> {e.To} ({string.Join(", ", e.Where.Take(3))})")
            .ToList();
        Assert.True(wrong.Count == 0, "imports the table does not allow:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void NoNamespaceImports_InACircle()
    {
        var graph = Graph().ToDictionary(n => n.Key, n => n.Value.Keys.ToList());
        var cycles = Cycles(graph);
        Assert.True(cycles.Count == 0, "namespaces that import each other:\n" + string.Join("\n", cycles.Select(c => string.Join(" -> ", c))));
    }

    [Fact]
    public void TheReader_SeesQualifiedNamesAndUsings_AndSkipsCommentsAndStrings()
    {
        var known = new HashSet<string> { "Goq.Hosting", "Goq.Output", "Goq.Storage" };
        const string source = """
            using Goq.Storage;
            namespace Goq.Worker;
            // Output.LineCuts in a comment is not a dependency
            class C { string s = "Goq.Output.X"; void M() => Hosting.ServerHost.Run(1, 2); OutputStream x; }
            """;
        Assert.Equal(["Goq.Hosting", "Goq.Storage"], Dependencies(source, known).Order());
        Assert.Single(Cycles(new() { ["a"] = ["b"], ["b"] = ["c"], ["c"] = ["a"], ["d"] = ["a"] }));

        // A type of the enclosing namespace, used without a using; a sub-namespace's name is not its parent's.
        known.Add("Goq.Server");
        known.Add("Goq.Server.Queries");
        const string inner = "namespace Goq.Server.Scheduling;\nclass S { PeerId p; object q = Goq.Server.Queries.JobQueries.X; }";
        var declared = new Dictionary<string, HashSet<string>> { ["Goq.Server"] = ["PeerId"] };
        Assert.Equal(["Goq.Server", "Goq.Server.Queries"], Dependencies(inner, known, declared).Order());
    }

    /// <summary>Each namespace's dependencies, with the files that make each.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> Graph()
    {
        var root = Path.Combine(RepositoryRoot(), "src", "Goq.Engine");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path: Path.GetRelativePath(root, f), Text: File.ReadAllText(f)))
            .ToList();
        var namespaces = files.Select(f => NamespaceOf(f.Text)).ToHashSet();
        Assert.Contains("Goq.Server", namespaces); // the reader found the sources
        var types = files.GroupBy(f => NamespaceOf(f.Text))
            .ToDictionary(g => g.Key, g => g.SelectMany(f => TypeDeclaration().Matches(f.Text).Select(m => m.Groups[1].Value)).ToHashSet());

        var graph = new Dictionary<string, Dictionary<string, List<string>>>();
        foreach (var (path, text) in files)
        {
            var from = NamespaceOf(text);
            foreach (var to in Dependencies(text, namespaces, types).Where(d => d != from))
            {
                var edges = graph.TryGetValue(from, out var e) ? e : graph[from] = [];
                (edges.TryGetValue(to, out var where) ? where : edges[to] = []).Add(path);
            }
        }

        return graph;
    }

    private static string NamespaceOf(string text) => NamespaceLine().Match(text) is { Success: true } m ? m.Groups[1].Value : "Goq";

    private static IEnumerable<string> Dependencies(string text, IReadOnlySet<string> namespaces, IReadOnlyDictionary<string, HashSet<string>>? types = null)
    {
        var code = Strings().Replace(Comments().Replace(text, ""), "\"\"");
        var found = new HashSet<string>(UsingLine().Matches(code).Select(m => m.Groups[1].Value).Where(namespaces.Contains));
        var own = NamespaceOf(text);
        code = DeclarationLine().Replace(code, ""); // its namespace and usings are not qualified names
        foreach (var name in namespaces.Where(n => n.StartsWith("Goq.", StringComparison.Ordinal)))
        {
            // Goq.X.Type, or X.Type from inside Goq (the enclosing namespace makes the short form legal); Goq.X.Y.Type
            // when Goq.X.Y is a namespace of its own counts for that one.
            foreach (Match m in Regex.Matches(code, $@"(?<![\w.])(?:Goq\.)?{Regex.Escape(name[4..])}\.([A-Z]\w*)"))
            {
                if (!namespaces.Contains($"{name}.{m.Groups[1].Value}"))
                {
                    found.Add(name);
                }
            }
        }

        // The types of an enclosing namespace (other than the model's) need no using: Goq.Server.Scheduling sees Goq.Server's.
        for (var enclosing = Parent(own); enclosing is not null && enclosing != "Goq"; enclosing = Parent(enclosing))
        {
            if (types?.GetValueOrDefault(enclosing) is { } declared && Identifier().Matches(code).Any(m => declared.Contains(m.Value)))
            {
                found.Add(enclosing);
            }
        }

        return found;
    }

    private static string? Parent(string name) => name.LastIndexOf('.') is var dot and > 0 ? name[..dot] : null;

    /// <summary>Every strongly connected group of more than one namespace (Tarjan), each as a list.</summary>
    private static List<List<string>> Cycles(Dictionary<string, List<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var groups = new List<List<string>>();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], index[next]);
                }
            }

            if (low[node] == index[node])
            {
                var group = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    group.Add(member);
                }
                while (member != node);
                if (group.Count > 1)
                {
                    groups.Add(group);
                }
            }
        }

        foreach (var node in graph.Keys.ToList())
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return groups;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Goq.PowerShell.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository's root (Goq.PowerShell.sln) is not above the test's folder");
    }

    [GeneratedRegex(@"^\s*(?:namespace|using)\s+[\w.]+\s*;", RegexOptions.Multiline)]
    private static partial Regex DeclarationLine();

    [GeneratedRegex(@"^(?:public |internal )?(?:sealed |static |abstract |readonly |unsafe |partial )*(?:class|record struct|record|struct|interface|enum)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*using\s+(Goq(?:\.\w+)*)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"@?""(?:\\.|[^""\\\n])*""")]
    private static partial Regex Strings();
}
