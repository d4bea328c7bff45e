using System.Net;
using System.Text;
using System.Text.Json;
using Goq.Errors;
using Goq.Storage;
using Goq.Diagnostics;

namespace Goq.Monitoring;

/// <summary>
/// The server's HTTP side: <c>GET /metrics</c> for Prometheus (no token: it carries no command, name or output) and the
/// read-only dashboard at <c>/</c>, whose every file and answer needs the token (<c>?token=</c>, or
/// <c>Authorization: Bearer</c>); without it a request gets 401 and no data (the page itself, a note that says how to
/// open it). Requests are served on the thread
/// pool, from the published snapshot and a read-only store connection: none of them reaches the server's loop.
/// </summary>
public sealed class MonitorEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly PrometheusExporter _exporter;
    private readonly ProcessMetrics _process = new();
    private readonly DashboardApi _api;
    private readonly ActivityHistory _history = new();
    private readonly ServerMetrics _metrics;
    private readonly string _token;
    private readonly Action<LogEntry> _log;
    private readonly Timer _sampler;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Requests served at once at most; past that a request gets 503 at once (a flood costs the server little).</summary>
    private const int MaxInFlight = 32;
    private int _inFlight;

    private MonitorEndpoint(ServerMetrics metrics, string token, Func<IJobReader?> openReader, Action<LogEntry> log)
    {
        _metrics = metrics;
        _token = token;
        _log = log;
        _exporter = new PrometheusExporter(ServerMetrics.MeterName, ProcessMetrics.MeterName);
        _api = new DashboardApi(metrics, _history, openReader);
        _sampler = new Timer(_ => _history.Add(_metrics.Snapshot), null, TimeSpan.Zero, ActivityHistory.Step);
    }

    /// <summary>Where /metrics is, e.g. <c>http://127.0.0.1:9464/metrics</c>.</summary>
    public string MetricsUrl { get; private set; } = "";

    /// <summary>
    /// Listens on <paramref name="address"/> (127.0.0.1 unless told otherwise; 0.0.0.0, * or + for every interface) and
    /// <paramref name="port"/>; a taken port fails here with <see cref="GoqErrorIds.PortInUse"/>.
    /// </summary>
    public static MonitorEndpoint Start(string address, int port, string urlHost, ServerMetrics metrics, string token, Func<IJobReader?> openReader, Action<LogEntry> log)
    {
        var endpoint = new MonitorEndpoint(metrics, token, openReader, log);
        var host = address is "0.0.0.0" or "*" or "+" or "::" ? "+" : address.Contains(':') ? $"[{address}]" : address;
        endpoint._listener.Prefixes.Add($"http://{host}:{port}/");
        try
        {
            endpoint._listener.Start();
        }
        catch (HttpListenerException ex)
        {
            endpoint.Dispose();
            var inUse = ex.ErrorCode is 98 or 48 or 10048 || ex.Message.Contains("in use", StringComparison.OrdinalIgnoreCase);
            throw new GoqException(inUse ? GoqErrorIds.PortInUse : GoqErrorIds.ServerStartFailed,
                inUse ? GoqErrorKind.ResourceUnavailable : GoqErrorKind.Connection,
                $"cannot serve metrics on {address}:{port}: {(inUse ? "the port is already in use" : ex.Message)}", ex)
            { Target = $"{address}:{port}" };
        }

        endpoint.MetricsUrl = $"http://{(host == "+" ? urlHost : host)}:{port}/metrics";
        _ = endpoint.AcceptAsync();
        log(LogEntry.Info("monitor.started", $"serving metrics on {endpoint.MetricsUrl} and the dashboard at / (token required)"));
        return endpoint;
    }

    /// <summary>The dashboard's address with its token: for the client side only, which makes it from its own secret.</summary>
    public static string DashboardUrl(string metricsUrl, string token) =>
        metricsUrl.EndsWith("/metrics", StringComparison.Ordinal) ? $"{metricsUrl[..^"metrics".Length]}?token={token}" : $"{metricsUrl}?token={token}";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }

            if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                TryStatus(context.Response, 503);
                TryClose(context.Response);
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeAsync(context).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            });
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var request = context.Request;
            var path = request.Url?.AbsolutePath ?? "/";
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers["Cache-Control"] = "no-store";
            if (request.HttpMethod is not ("GET" or "HEAD"))
            {
                Status(response, 405);
                return;
            }

            if (path == "/metrics")
            {
                var openMetrics = PrometheusExporter.WantsOpenMetrics(request.Headers["Accept"]);
                response.ContentType = PrometheusExporter.ContentType(openMetrics);
                // Whole, with its length: written piecemeal (chunked), the small writes met delayed ACKs, 40 ms a scrape.
                using var body = new MemoryStream();
                await _exporter.WriteAsync(body, openMetrics, _stop.Token).ConfigureAwait(false);
                response.ContentLength64 = body.Length;
                body.Position = 0;
                await body.CopyToAsync(response.OutputStream, _stop.Token).ConfigureAwait(false);
                return;
            }

            // Guarantee point: nothing of the dashboard, not even its static files, without the token.
            if (!DashboardToken.Matches(_token, OfferedToken(request)))
            {
                // A browser opening the page without its token gets a page that says how to open it (still 401, and
                // nothing of the data); the other files and the API get the bare status.
                if (path is "/" or "/index.html")
                {
                    await NeedsTokenAsync(response).ConfigureAwait(false);
                }
                else
                {
                    Status(response, 401);
                }

                return;
            }

            // The token is in the page's address: never let it leave in a Referer, nor the page be framed elsewhere.
            response.Headers["Referrer-Policy"] = "no-referrer";
            response.Headers["Content-Security-Policy"] =
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
            if (path.StartsWith("/api/", StringComparison.Ordinal))
            {
                Api(path, request, response);
            }
            else if (DashboardFiles.Find(path) is { } file)
            {
                response.ContentType = file.ContentType;
                var body = file.Render(_token);
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
            }
            else
            {
                Status(response, 404);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A request that fails (a client gone, a bad query, the store busy) never stops the listener.
            if (ex is not (HttpListenerException or IOException or OperationCanceledException))
            {
                _log(LogEntry.Warning("monitor.request_failed", $"monitor: a request failed: {ex.GetType().Name}: {ex.Message}"));
            }

            TryStatus(response, 500);
        }
        finally
        {
            TryClose(response);
        }
    }

    private static void TryClose(HttpListenerResponse response)
    {
        try
        {
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the client went away
        }
    }

    private void Api(string path, HttpListenerRequest request, HttpListenerResponse response)
    {
        var query = request.QueryString;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            switch (path)
            {
                case "/api/summary":
                    _api.Summary(json);
                    break;
                case "/api/workers":
                    _api.Workers(json);
                    break;
                case "/api/jobs":
                    JobState? state = Enum.TryParse<JobState>(query["state"]?.Replace("_", ""), ignoreCase: true, out var parsed) ? parsed : null;
                    _api.Jobs(json, state, Blank(query["name"]), Blank(query["queue"]),
                        long.TryParse(query["before"], out var before) && before > 0 ? before : long.MaxValue,
                        int.TryParse(query["limit"], out var limit) ? limit : 50);
                    break;
                case "/api/job" when long.TryParse(query["id"], out var id) && _api.Job(json, id):
                    break;
                default:
                    json.Flush();
                    Status(response, 404);
                    return;
            }
        }

        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength64 = buffer.Length;
        buffer.Position = 0;
        buffer.CopyTo(response.OutputStream);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? OfferedToken(HttpListenerRequest request) =>
        request.QueryString["token"] ?? (request.Headers["Authorization"] is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..].Trim() : null);

    /// <summary>The page's address without its token, as a user types or bookmarks it: what to run to get the address with it.</summary>
    internal const string NeedsTokenPage =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Goq dashboard: token needed</title></head><body>\n" +
        "<h1>Goq dashboard</h1>\n<p>This page needs the home's dashboard token in its address. On a host that has the home's " +
        "<code>.goq</code> folder, run this in pwsh and open the address it prints:</p>\n" +
        "<pre>(Get-GoqServer -Detailed).DashboardUrl</pre>\n</body></html>\n";

    private async Task NeedsTokenAsync(HttpListenerResponse response)
    {
        var body = Encoding.UTF8.GetBytes(NeedsTokenPage);
        response.StatusCode = 401;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
    }

    private static void Status(HttpListenerResponse response, int code)
    {
        response.StatusCode = code;
        response.ContentLength64 = 0;
    }

    private static void TryStatus(HttpListenerResponse response, int code)
    {
        try
        {
            Status(response, code);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpListenerException or ObjectDisposedException)
        {
            // headers already sent
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sampler.Dispose();
        try
        {
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        _exporter.Dispose();
        _process.Dispose();
        _api.Dispose();
        _stop.Dispose();
    }
}
