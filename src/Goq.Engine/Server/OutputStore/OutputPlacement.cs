using Goq.Configuration;
using Goq.Diagnostics;

namespace Goq.Server.OutputStore;

/// <summary>
/// Where a job's output goes: goq's place, <c>&lt;WorkingDirectory&gt;/&lt;odir&gt;/out.NNNNN</c>, else
/// <c>&lt;home&gt;/&lt;odir&gt;/out.NNNNN</c>, and where its lines start there (goq appends to a file that exists). The
/// place is planned when the job is dispatched, so where its lines start is committed with the dispatch, before any
/// of its bytes can be written; the files are created at its first line. Owned by the server's loop thread.
/// </summary>
internal sealed class OutputPlacement(string home, string outputDir, Action<LogEntry> log)
{
    /// <summary>The place a job's output would go now, and where its lines would start; nothing is created.</summary>
    public JobOutputLog? Plan(JobInfo job)
    {
        try
        {
            var root = Roots(job).FirstOrDefault(Directory.Exists);
            if (root is null)
            {
                return null;
            }

            var path = Path.Combine(root, outputDir, OutputFiles.FileName(job));
            var output = new JobOutputLog(path, LengthOf(path)) { Planned = true };
            if (job.Kind == JobKind.ScriptBlock)
            {
                var records = JobOutputLog.RecordsPath(path);
                output.Records = new JobOutputLog(records, LengthOf(records)) { Planned = true };
            }

            return output;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // planned at the first line instead
        }
    }

    /// <summary>
    /// Creates a planned log's folder and files at its first line. False when the plan no longer holds (the folder
    /// cannot be made, or another process wrote to the file meanwhile): then the job's output is placed anew.
    /// </summary>
    public bool Materialize(JobInfo job, JobOutputLog planned, ICollection<string> newEntries)
    {
        try
        {
            foreach (var part in new[] { planned, planned.Records })
            {
                if (part is not null && LengthOf(part.Path) != part.StartOffset)
                {
                    log(LogEntry.Info("job.output_replaced", $"job {job.Id}: '{part.Path}' changed since the job was dispatched; its output is placed anew", job: job.Id));
                    return false;
                }
            }

            var dir = Path.GetDirectoryName(planned.Path)!;
            if (!Directory.Exists(dir))
            {
                GoqHomeInitializer.CreatePrivateDirectory(dir);
                newEntries.Add(Path.GetDirectoryName(dir)!);
            }

            foreach (var part in new[] { planned, planned.Records })
            {
                if (part is not null)
                {
                    part.Writer = OpenWriter(part.Path);
                    part.Planned = false;
                }
            }

            if (planned.StartOffset == 0)
            {
                newEntries.Add(dir); // a new name in the folder: on disk with the first lines' sync
            }

            job.OutputPath = planned.Path;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log(LogEntry.Warning("job.output_unwritable", $"job {job.Id}: cannot write output to '{planned.Path}': {ex.Message}", job: job.Id));
            return false;
        }
    }

    /// <summary>
    /// Opens a job's output at its first line when it had no plan (or its plan failed): the first root where the folder
    /// and files can be made. The caller makes where it starts durable before writing to it.
    /// </summary>
    public JobOutputLog? Open(JobInfo job, ICollection<string> newEntries)
    {
        foreach (var root in Roots(job))
        {
            if (!Directory.Exists(root))
            {
                continue;
            }

            try
            {
                var dir = Path.Combine(root, outputDir);
                if (!Directory.Exists(dir))
                {
                    GoqHomeInitializer.CreatePrivateDirectory(dir);
                    newEntries.Add(root);
                }

                var path = Path.Combine(dir, OutputFiles.FileName(job));
                var start = LengthOf(path);
                var output = new JobOutputLog(path, start) { Writer = OpenWriter(path) };
                if (job.Kind == JobKind.ScriptBlock)
                {
                    var records = JobOutputLog.RecordsPath(path);
                    output.Records = new JobOutputLog(records, LengthOf(records)) { Writer = OpenWriter(records) };
                }

                if (start == 0)
                {
                    newEntries.Add(dir); // a new name in the folder: on disk with the first lines' sync
                }

                job.OutputPath = path;
                if (root != job.WorkingDirectory)
                {
                    log(LogEntry.Warning("job.output_elsewhere", $"job {job.Id}: cannot write under '{job.WorkingDirectory}'; output goes to '{path}'", job: job.Id));
                }

                return output;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                log(LogEntry.Warning("job.output_unwritable", $"job {job.Id}: cannot write output under '{root}': {ex.Message}", job: job.Id));
            }
        }

        log(LogEntry.Error("job.output_dropped", $"job {job.Id}: no place to write output; it is dropped", job: job.Id));
        return null;
    }

    /// <summary>
    /// After a crash the file may hold lines written after the last commit: they were never acknowledged, so the
    /// worker sends them again. Cutting them here keeps them from appearing twice. (Guarantee point.)
    /// </summary>
    public void TrimUnrecorded(JobOutputLog output)
    {
        if (output.Records is { } records)
        {
            TrimUnrecorded(records);
        }

        try
        {
            var recorded = output.StartOffset + output.ByteCount;
            if (File.Exists(output.Path) && new FileInfo(output.Path).Length > recorded)
            {
                using var stream = new FileStream(output.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                stream.SetLength(recorded);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log(LogEntry.Warning("output.trim_failed", $"cannot trim '{output.Path}' to its recorded length: {ex.Message}"));
        }
    }

    /// <summary>The byte at <paramref name="offset"/> of the file, or null when it cannot be read.</summary>
    public static byte? ByteAt(string path, long offset)
    {
        try
        {
            using var file = File.OpenHandle(path);
            Span<byte> one = stackalloc byte[1];
            return RandomAccess.Read(file, one, offset) == 1 ? one[0] : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static FileStream OpenWriter(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

    private IEnumerable<string> Roots(JobInfo job) =>
        new[] { job.WorkingDirectory, home }.Where(root => !string.IsNullOrEmpty(root));

    private static long LengthOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
}
