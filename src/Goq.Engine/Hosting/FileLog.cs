using System.Globalization;

namespace Goq.Hosting;

/// <summary>An append-only log file with a timestamp on every line; safe to call from any thread.</summary>
public sealed class FileLog : IDisposable
{
    private readonly object _gate = new();
    private readonly StreamWriter _writer;

    public FileLog(string path)
    {
        Path = path;
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _writer = new StreamWriter(stream) { AutoFlush = true };
        Configuration.GoqHomeInitializer.RestrictFile(path);
    }

    public string Path { get; }

    public void Write(string line)
    {
        lock (_gate)
        {
            try
            {
                _writer.WriteLine($"{DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{Environment.ProcessId}] {line}");
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }
}
