using Goq.Configuration;
using Goq.Diagnostics;

namespace Goq.Server.OutputStore;

/// <summary>
/// Where a job's output goes: goq's place, <c>&lt;WorkingDirectory&gt;/&lt;odir&gt;/out.NNNNN</c>, else
/// <c>&lt;home&gt;/&lt;odir&gt;/out.NNNNN</c>, and where its lines start there (goq appends to a file that exists). The
/// place is planned when the job is dispatched, so where its lines start is committed with the dispatch, before any
/// of its bytes can be written; the files are created at its first line. Owned by the server's loop thread.
/// In a multi-user cluster (<paramref name="accounts"/> given: the server runs as root) every folder and file is made
/// and opened as the job's owner (<see cref="Platform.FileCredentials"/>), never through a link at the file itself, so
/// nothing is created where the owner could not create it; the fallback is then the owner's home folder, and for an
/// owner without an account on the server's host the server's own home (read only through the server, which checks who asks).
/// </summary>
internal sealed class OutputPlacement(string home, string outputDir, Action<LogEntry> log, Func<string, Platform.UserAccount?>? accounts = null)
{
    /// <summary>The account whose rights the job's output files are made with; null: the server's own.</summary>
    public Platform.UserAccount? Owner(JobInfo job) => accounts?.Invoke(job.Owner);

    /// <summary>
    /// The account whose rights a file at <paramref name="path"/> of the job is opened with: its owner's, unless it is
    /// in the server's own output folder (the last fallback, which no user controls).
    /// </summary>
    public Platform.UserAccount? OwnerFor(JobInfo job, string? path) =>
        accounts is null || (path is not null && path.StartsWith(Path.Combine(home, outputDir) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            ? null
            : Owner(job);

    /// <summary>The place a job's output would go now, and where its lines would start; nothing is created.</summary>
    public JobOutputLog? Plan(JobInfo job)
    {
        try
        {
            var root = Roots(job, Owner(job)).FirstOrDefault(Directory.Exists);
            if (root is null)
            {
                return null;
            }

            var path = Path.Combine(root, outputDir, OutputFiles.FileName(job));
            var owner = Owner(job);
            var output = new JobOutputLog(path, LengthOf(path)) { Planned = true, Owner = owner };
            if (job.Kind == JobKind.ScriptBlock)
            {
                var records = JobOutputLog.RecordsPath(path);
                output.Records = new JobOutputLog(records, LengthOf(records)) { Planned = true, Owner = owner };
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
    public bool Materialize(JobInfo job, JobOutputLog planned, ICollection<string> newEntries) =>
        Platform.FileCredentials.As(planned.Owner, () => MaterializeAsOwner(job, planned, newEntries));

    private bool MaterializeAsOwner(JobInfo job, JobOutputLog planned, ICollection<string> newEntries)
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
                    part.Writer = OpenWriter(part.Path, null); // this thread acts as the owner already
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
        var owner = Owner(job);
        if (owner is null)
        {
            return OpenIn(job, Roots(job, null), null, newEntries, last: true);
        }

        // The owner's places with their rights, then the server's own folder: output is never dropped for want of a
        // place the owner can write (a link put where its file goes, a folder they cannot write), and never written
        // with more than their rights where they choose.
        return Platform.FileCredentials.As(owner, () => OpenIn(job, Roots(job, owner), owner, newEntries, last: false))
            ?? OpenIn(job, [home], null, newEntries, last: true);
    }

    private JobOutputLog? OpenIn(JobInfo job, IEnumerable<string> roots, Platform.UserAccount? owner, ICollection<string> newEntries, bool last)
    {
        foreach (var root in roots)
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
                var output = new JobOutputLog(path, start) { Writer = OpenWriter(path, null), Owner = owner };
                if (job.Kind == JobKind.ScriptBlock)
                {
                    var records = JobOutputLog.RecordsPath(path);
                    output.Records = new JobOutputLog(records, LengthOf(records)) { Writer = OpenWriter(records, null), Owner = owner };
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

        if (last)
        {
            log(LogEntry.Error("job.output_dropped", $"job {job.Id}: no place to write output; it is dropped", job: job.Id));
        }

        return null;
    }

    /// <summary>
    /// After a crash the file may hold lines written after the last commit: they were never acknowledged, so the
    /// worker sends them again. Cutting them here keeps them from appearing twice. (Guarantee point.)
    /// </summary>
    public void TrimUnrecorded(JobOutputLog output) => Platform.FileCredentials.As(output.Owner, () => TrimAsOwner(output));

    private void TrimAsOwner(JobOutputLog output)
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
                using var stream = OpenWriter(output.Path, output.Owner, create: false);
                stream.SetLength(recorded);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log(LogEntry.Warning("output.trim_failed", $"cannot trim '{output.Path}' to its recorded length: {ex.Message}"));
        }
    }

    /// <summary>The byte at <paramref name="offset"/> of the file, or null when it cannot be read.</summary>
    public static byte? ByteAt(string path, long offset, Platform.UserAccount? owner = null) => Platform.FileCredentials.As(owner, () => ByteAsOwner(path, offset));

    private static byte? ByteAsOwner(string path, long offset)
    {
        try
        {
            using var file = Platform.NoFollow.OpenRead(path);
            Span<byte> one = stackalloc byte[1];
            return RandomAccess.Read(file.SafeFileHandle, one, offset) == 1 ? one[0] : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Opens a job's output file to append to, as <paramref name="owner"/> (null: as this thread is), never through a
    /// link: a link put in its place is refused (O_NOFOLLOW on Linux).
    /// </summary>
    public static FileStream OpenWriter(string path, Platform.UserAccount? owner, bool create = true) =>
        Platform.FileCredentials.As(owner, () =>
        {
            if (!OperatingSystem.IsLinux())
            {
                return new FileStream(path, create ? FileMode.Append : FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            }

            var handle = Platform.NoFollow.Open(path, create);
            var stream = new FileStream(handle, FileAccess.Write);
            stream.Seek(0, SeekOrigin.End);
            return stream;
        });

    private IEnumerable<string> Roots(JobInfo job, Platform.UserAccount? owner) =>
        (accounts is null ? new[] { job.WorkingDirectory, home } : owner is null ? [home] : [job.WorkingDirectory, owner.Home])
            .Where(root => !string.IsNullOrEmpty(root));

    private static long LengthOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
}
