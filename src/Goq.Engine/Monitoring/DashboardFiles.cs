using System.Text;

namespace Goq.Monitoring;

/// <summary>The dashboard's static files, embedded in the engine, by the path they are served at.</summary>
internal static class DashboardFiles
{
    private static readonly Dictionary<string, DashboardFile> Files = new(StringComparer.Ordinal)
    {
        ["/"] = Load("index.html", "text/html; charset=utf-8", hasToken: true),
        ["/app.js"] = Load("app.js", "text/javascript; charset=utf-8"),
        ["/app.css"] = Load("app.css", "text/css; charset=utf-8"),
        ["/vendor/uplot/uPlot.iife.min.js"] = Load("uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ["/vendor/uplot/uPlot.min.css"] = Load("uPlot.min.css", "text/css; charset=utf-8"),
        ["/vendor/uplot/LICENSE"] = Load("LICENSE", "text/plain; charset=utf-8"),
    };

    public static DashboardFile? Find(string path) => Files.GetValueOrDefault(path == "/index.html" ? "/" : path);

    private static DashboardFile Load(string name, string contentType, bool hasToken = false)
    {
        using var stream = typeof(DashboardFiles).Assembly.GetManifestResourceStream($"Goq.Dashboard.{name}")
            ?? throw new InvalidOperationException($"the dashboard file {name} is not embedded in the engine");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new DashboardFile(copy.ToArray(), contentType, hasToken);
    }
}

/// <summary>One static file; the page itself carries the token into the addresses of its scripts and styles.</summary>
internal sealed class DashboardFile(byte[] bytes, string contentType, bool hasToken)
{
    public string ContentType { get; } = contentType;

    /// <summary>The file's bytes; in the page, <c>{{token}}</c> becomes the token (hex digits only: nothing to escape).</summary>
    public byte[] Render(string token) =>
        hasToken ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("{{token}}", token, StringComparison.Ordinal)) : bytes;
}
