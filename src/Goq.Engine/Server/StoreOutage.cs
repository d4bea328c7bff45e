using Goq.Errors;
using Goq.Protocol;
using Microsoft.Data.Sqlite;
using Goq.Server.Scheduling;

namespace Goq.Server;

/// <summary>
/// The store cannot take a commit (disk full, a read-only file system, an I/O error): the server stays up. While it is
/// down, a change a client asks for is refused (<see cref="GoqErrorIds.StoreUnavailable"/>, naming the cause) before
/// it touches the queue; a worker's report is dropped (the worker sends it again with its next heartbeat, as it does
/// for any report not acknowledged); reads, waits and running jobs go on. What the turn that failed (and the ticks
/// since) decided is staged still, and its messages are held here: they go out, in order, after the commit that holds
/// them, which the server retries every tick. Owned by the server's loop thread.
/// </summary>
internal sealed class StoreOutage(string? storeDirectory, Action<Diagnostics.LogEntry> log)
{
    /// <summary>Below this much free space where the store is, a change is refused before it is decided (see <see cref="SpaceShort"/>).</summary>
    public const long MinFreeBytes = 1024 * 1024;

    private readonly List<SchedulerEffect> _held = [];

    /// <summary>Why the store cannot take commits, or null while it can.</summary>
    public string? Cause { get; private set; }

    public bool IsDown => Cause is not null;

    /// <summary>The cause an exception from a commit names, or null when it is not the store's outage (a bug: rethrown).</summary>
    public static string? CauseOf(Exception ex) => ex switch
    {
        SqliteException { SqliteErrorCode: 13 } => "the disk is full",
        SqliteException { SqliteErrorCode: 8 } => "the file system is read-only",
        SqliteException { SqliteErrorCode: 10 } io => $"an I/O error ({io.Message})",
        SqliteException { SqliteErrorCode: 14 } open => $"the job database cannot be opened ({open.Message})",
        IOException { HResult: 28 or -2147024784 } => "the disk is full", // ENOSPC; ERROR_DISK_FULL
        IOException { HResult: 30 } => "the file system is read-only", // EROFS
        IOException io => $"an I/O error ({io.Message})",
        GoqException { ErrorId: GoqErrorIds.StoreUnavailable } unavailable => unavailable.Message,
        // PostgreSQL: the database went away or is changing hands (a fail-over: a replica is read-only until promoted),
        // is out of room (class 53), is shutting down or cancelled the statement (57: a statement_timeout, an admin), had
        // an I/O error (58), or the transaction lost a race (40001, 40P01, a lock timeout 55P03): all worth another try.
        // Any other error of the database is a bug: rethrown.
        Npgsql.PostgresException { SqlState: var state } pg when pg.IsTransient || state.StartsWith("08", StringComparison.Ordinal)
            || state.StartsWith("53", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal) || state.StartsWith("58", StringComparison.Ordinal)
            || state is "25006" or "40001" or "40P01" or "55P03" => $"the PostgreSQL store refused the commit ({pg.MessageText})",
        Npgsql.NpgsqlException npgsql and not Npgsql.PostgresException => $"the PostgreSQL store cannot be reached ({npgsql.Message})",
        _ => null,
    };

    /// <summary>
    /// True (and the store down) when the disk the store is on has less than <see cref="MinFreeBytes"/> free. Looked at
    /// before a change is applied, so a change that could not be stored is refused rather than taken and then held
    /// (a commit that fails still puts the store down: a read-only file system, an I/O error, a batch larger than
    /// the space left).
    /// </summary>
    public bool SpaceShort()
    {
        if (storeDirectory is null)
        {
            return false;
        }

        if (FreeBytes(storeDirectory) is not { } free || free >= MinFreeBytes)
        {
            return false; // room enough, or cannot tell: the commit will
        }

        Down($"the disk is full ({free / 1024} KiB free where the job database is)");
        return true;
    }

    /// <summary>The space free for us on the file system that holds <paramref name="directory"/>; null when it cannot be told.</summary>
    public static long? FreeBytes(string directory)
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Refuses to open a store with less than <see cref="MinFreeBytes"/> free: SQLite maps its WAL index (the -shm file),
    /// and a page of it the disk has no room for kills the process (SIGBUS) instead of failing a write.
    /// </summary>
    /// <exception cref="GoqException"><see cref="GoqErrorIds.StoreUnavailable"/>, naming the free space.</exception>
    public static void EnsureRoomToOpen(string directory, string home)
    {
        if (FreeBytes(directory) is { } free && free < MinFreeBytes)
        {
            throw new GoqException(GoqErrorIds.StoreUnavailable, GoqErrorKind.ResourceUnavailable,
                $"cannot start the server: the disk is full ({free / 1024} KiB free in '{directory}'), and its job database needs room to be opened safely. Free some space and start it again")
            { Target = home };
        }
    }

    /// <summary>A change a client asks for: refused while the store is down, so nothing is decided that cannot be stored.</summary>
    public static bool IsChange(GoqMessage message) =>
        message is SubmitJobs or CancelJobs or SetJobs or RestartJobs or SetQueue or RemoveJobs or DismissJobs or GrantUser or SetUser or RevokeUser;

    /// <summary>What a worker reports (a start, an end, output): dropped while the store is down; it comes again.</summary>
    public static bool IsWorkerReport(GoqMessage message) =>
        message is JobStarted or JobFinished or JobOutput or JobOutputWritten or JobReturned;

    /// <summary>
    /// A message that promises nothing stored: it goes out while the store is down. Answers that show jobs and output
    /// go out only while nothing is staged that could not be stored (<paramref name="staged"/> false): they would show
    /// an end, or a line, that a crash could still take back.
    /// </summary>
    public static bool PromisesNothing(GoqMessage message, bool staged) =>
        message is ErrorReply or Ack or ServerStatusReply or WorkersReply or QueuesReply or StopWorkersReply or ShutdownWorker or ServerStopping
        || (!staged && message is JobsReply or OutputReply or OutputMapReply or OutputBytesReply or WatchReply);

    public ErrorReply Refusal() => new(GoqErrorIds.StoreUnavailable,
        $"the server cannot store changes now: {Cause}. Nothing was changed; reads and running jobs go on, and the server takes changes again by itself once it can store them",
        GoqErrorKind.ResourceUnavailable);

    /// <summary>The store cannot take a commit now, for <paramref name="cause"/> (logged when this begins the outage).</summary>
    public void Down(string cause, string? detail = null)
    {
        if (Cause is null)
        {
            log(Diagnostics.LogEntry.Error("store.unavailable",
                $"cannot store changes: {cause}; refusing changes (GoqStoreUnavailable) and trying again every tick{(detail is null ? "" : $": {detail}")}"));
        }

        Cause = cause;
    }

    /// <summary>A commit succeeded: the held messages, to send first, in order; empty when the store was not down.</summary>
    public IReadOnlyList<SchedulerEffect> Up()
    {
        var held = _held.ToArray();
        _held.Clear();
        if (Cause is not null)
        {
            log(Diagnostics.LogEntry.Info("store.available", $"changes are stored again; {held.Length} held messages go out now"));
        }

        Cause = null;
        return held;
    }

    public void Hold(SchedulerEffect effect) => _held.Add(effect);

    /// <summary>Whether a commit may be tried now: while down, at most every 250 ms (each try serialises all that is staged).</summary>
    public bool MayTry()
    {
        var now = Environment.TickCount64;
        if (Cause is null || now - _triedAt >= 250)
        {
            _triedAt = now;
            return true;
        }

        return false;
    }

    private long _triedAt;

    public int HeldCount => _held.Count;
}
