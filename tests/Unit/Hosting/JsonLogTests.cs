using System.Text;
using System.Text.Json;
using Goq.Hosting;
using Goq.Tests.Support;
using Goq.Diagnostics;

namespace Goq.Tests.Hosting;

/// <summary>The roles' JSON-lines logs: their fields, their rotation, and several writers on one file (as every worker of a host shares one).</summary>
public sealed class JsonLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string LogPath => _dir.Combine("worker-host.log");

    private static List<JsonElement> Entries(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void EachEntry_IsOneJsonObjectALine_WithItsFields()
    {
        using (var log = new JsonLog(LogPath, "worker", workerId: "w-default"))
        {
            log.Write(LogEntry.Warning("job.stale_report", "ignored a stale report \"quoted\"\nnext line", job: 42, worker: "w1"));
            log.Write("plain");
        }

        var entries = Entries(LogPath);
        Assert.Equal(2, entries.Count);
        var first = entries[0];
        Assert.Equal("warning", first.GetProperty("level").GetString());
        Assert.Equal("job.stale_report", first.GetProperty("event").GetString());
        Assert.Equal(42, first.GetProperty("jobId").GetInt64());
        Assert.Equal("w1", first.GetProperty("workerId").GetString());
        Assert.Equal("worker", first.GetProperty("role").GetString());
        Assert.Equal(Environment.ProcessId, first.GetProperty("pid").GetInt32());
        Assert.Equal("ignored a stale report \"quoted\"\nnext line", first.GetProperty("message").GetString());
        Assert.True(DateTimeOffset.TryParse(first.GetProperty("time").GetString(), out var at) && Math.Abs((DateTimeOffset.UtcNow - at).TotalMinutes) < 1);
        Assert.Equal(("info", "message", "w-default"), (entries[1].GetProperty("level").GetString(), entries[1].GetProperty("event").GetString(), entries[1].GetProperty("workerId").GetString()));
        Assert.False(entries[1].TryGetProperty("jobId", out _));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LogPath));
        }
    }

    [Fact]
    public void ManyWriters_OnOneFile_LoseNoLineAndMixNone_AndTheFileRotatesBySize()
    {
        const int writers = 4, lines = 3000;
        var logs = Enumerable.Range(0, writers).Select(i => new JsonLog(LogPath, "worker", $"w{i}", maxBytes: 64 * 1024, keep: 50)).ToList();
        try
        {
            Parallel.For(0, writers, i =>
            {
                for (var n = 0; n < lines; n++)
                {
                    logs[i].Write(LogEntry.Info("job.done", $"done with job {n} of writer {i}", job: n));
                }
            });
        }
        finally
        {
            logs.ForEach(l => l.Dispose());
        }

        var files = Directory.GetFiles(_dir.Path, "worker-host.log*").Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).ToList();
        Assert.True(files.Count > 5, $"the log rotated ({files.Count} files)");
        var all = files.SelectMany(Entries).ToList(); // every line parses: none was cut or mixed with another
        Assert.Equal(writers * lines, all.Count);
        foreach (var writer in all.GroupBy(e => e.GetProperty("workerId").GetString()))
        {
            Assert.Equal(Enumerable.Range(0, lines).Select(n => (long)n), writer.Select(e => e.GetProperty("jobId").GetInt64()).Order());
        }

        // A full file takes at most one more line from each writer (the one it wrote before it saw the file full): a
        // writer that finds another rotating waits for it instead of appending on, however slow the rotating one is.
        var longest = files.SelectMany(File.ReadAllLines).Max(l => Encoding.UTF8.GetByteCount(l) + 1);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length < 64 * 1024 + writers * longest, $"{f}: {new FileInfo(f).Length} bytes, lines up to {longest}"));
    }

    [Fact]
    public void Rotation_KeepsTheNewestFiles()
    {
        using (var log = new JsonLog(LogPath, "server", maxBytes: 1024, keep: 3))
        {
            for (var n = 0; n < 200; n++)
            {
                log.Write(LogEntry.Info("job.done", $"line {n}", job: n));
            }
        }

        Assert.True(File.Exists(LogPath + ".3"));
        Assert.False(File.Exists(LogPath + ".4"));
        var newest = Entries(LogPath).Concat(Entries(LogPath + ".1")).Select(e => e.GetProperty("jobId").GetInt64()).ToList();
        Assert.Contains(199L, newest);
        Assert.True(Entries(LogPath + ".3").Max(e => e.GetProperty("jobId").GetInt64()) < Entries(LogPath + ".1").Min(e => e.GetProperty("jobId").GetInt64()));
    }

    public void Dispose() => _dir.Dispose();
}
