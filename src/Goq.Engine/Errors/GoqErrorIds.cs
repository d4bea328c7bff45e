namespace Goq.Errors;

/// <summary>Stable error ids. Scripts match on these; never rename one.</summary>
public static class GoqErrorIds
{
    public const string MalformedMessage = "GoqMalformedMessage";
    public const string ProtocolVersionMismatch = "GoqProtocolVersionMismatch";
    public const string ServerUnreachable = "GoqServerUnreachable";
    public const string ServerAlreadyRunning = "GoqServerAlreadyRunning";
    public const string ServerNotRunning = "GoqServerNotRunning";
    public const string ServerStartFailed = "GoqServerStartFailed";
    public const string PortInUse = "GoqPortInUse";
    public const string HomeNotInitialized = "GoqHomeNotInitialized";
    public const string HomeAlreadyInitialized = "GoqHomeAlreadyInitialized";
    public const string InvalidConfig = "GoqInvalidConfig";
    public const string JobNotFound = "GoqJobNotFound";
    public const string WorkerNotFound = "GoqWorkerNotFound";
    public const string WorkerStartFailed = "GoqWorkerStartFailed";

    /// <summary>A worker with the same queues and labels already runs on this host for this home (Start-GoqWorker without -Force).</summary>
    public const string WorkerAlreadyRunning = "GoqWorkerAlreadyRunning";
    public const string InvalidJobSpec = "GoqInvalidJobSpec";
    public const string ArgumentNotSerializable = "GoqArgumentNotSerializable";
    public const string ArgumentListTooLong = "GoqArgumentListTooLong";
    public const string WaitTimeout = "GoqWaitTimeout";
    public const string ServerError = "GoqServerError";
    public const string StoreUnusable = "GoqStoreUnusable";

    /// <summary>
    /// The server cannot store a change now (disk full, a read-only file system, an I/O error): the change was refused
    /// and nothing was changed; reads and running jobs go on, and the server serves changes again by itself once it
    /// can store them.
    /// </summary>
    public const string StoreUnavailable = "GoqStoreUnavailable";
    public const string JobNotEnded = "GoqJobNotEnded";

    /// <summary>A change that only a job that has not started can take (Set-GoqJob) asked of one that has.</summary>
    public const string JobStarted = "GoqJobStarted";

    /// <summary>A queue name that is not 1 to 64 letters, digits, '-', '_' or '.', or a negative throttle limit.</summary>
    public const string InvalidQueue = "GoqInvalidQueue";

    /// <summary>A job's -DependsOn names a job the server does not know (never submitted, or removed).</summary>
    public const string DependencyNotFound = "GoqDependencyNotFound";

    /// <summary>A variable for a job's environment with an empty name, '=' or NUL in its name, or NUL in its value.</summary>
    public const string InvalidEnvironment = "GoqInvalidEnvironment";

    public const string UsingVariableNotFound = "GoqUsingVariableNotFound";

    /// <summary>A worker that cannot restart in place: not started with -JobKeeper, or on another host.</summary>
    public const string WorkerRestartUnsupported = "GoqWorkerRestartUnsupported";

    /// <summary>One job's spec is larger than any message may be.</summary>
    public const string MessageTooLarge = "GoqMessageTooLarge";

    /// <summary>The home has no credentials (or unreadable ones): it was not initialized by this version.</summary>
    public const string CredentialsMissing = "GoqCredentialsMissing";

    /// <summary>The server and this home do not share the cluster secret.</summary>
    public const string CredentialsRejected = "GoqCredentialsRejected";

    /// <summary>A message whose MAC does not match (dropped, counted).</summary>
    public const string BadSignature = "GoqBadSignature";

    /// <summary>A message seen before, or with a timestamp outside the replay window (dropped, counted).</summary>
    public const string ReplayedMessage = "GoqReplayedMessage";

    /// <summary>A signed message stamped outside the replay window: the two hosts' clocks are too far apart.</summary>
    public const string ClockSkew = "GoqClockSkew";

    /// <summary>A file Import-GoqHome was given is not a home archive Export-GoqHome wrote (or holds more than one).</summary>
    public const string InvalidHomeArchive = "GoqInvalidHomeArchive";

    /// <summary>The home being imported into belongs to another cluster (other keys).</summary>
    public const string HomeOfAnotherCluster = "GoqHomeOfAnotherCluster";

    /// <summary>A file Goq was asked to write could not be (no such folder, no permission, disk full).</summary>
    public const string FileNotWritable = "GoqFileNotWritable";

    /// <summary>A script file given to Submit-GoqJob (-LiteralPath, or a file piped) does not exist.</summary>
    public const string ScriptNotFound = "GoqScriptNotFound";

    /// <summary>
    /// Stop-GoqServer -IncludeWorkers: workers did not leave in time, so the server was left running (even with -Force,
    /// which kills only a server that does not answer).
    /// </summary>
    public const string WorkersNotStopped = "GoqWorkersNotStopped";

    /// <summary>Initialize-GoqHome could not write the home's folder or files (no permission, a read-only file system).</summary>
    public const string HomeNotWritable = "GoqHomeNotWritable";

    /// <summary>New-GoqServiceUnit was given an option of the other role (-Slots for a server, -MetricsPort for a worker).</summary>
    public const string InvalidServiceOption = "GoqInvalidServiceOption";

    /// <summary>A Goq.GoqJob could not read the rest of its job's output when the job ended (in its Error stream).</summary>
    public const string JobOutputUnreadable = "GoqJobOutputUnreadable";

    /// <summary>A script-block job that could not run its script (the runner's record of why, in the job's errors).</summary>
    public const string ScriptJobFailed = "GoqScriptJobFailed";

    /// <summary>An error record of a script-block job that came back without an id of its own.</summary>
    public const string JobError = "GoqJobError";

    /// <summary>
    /// A request refused for lack of rights in a multi-user cluster (another user's job, an Admin's action): the message
    /// says what was refused and who may do it. Counted (DeniedRequests) and logged (security.denied).
    /// </summary>
    public const string AccessDenied = "GoqAccessDenied";

    /// <summary>A user key the server revoked (Revoke-GoqUser): refused from the next message on.</summary>
    public const string CredentialRevoked = "GoqCredentialRevoked";

    /// <summary>A user name the server does not know (Set-GoqUser, Revoke-GoqUser).</summary>
    public const string UserNotFound = "GoqUserNotFound";

    /// <summary>A user name that is not a login name (letters, digits, '.', '_', '-'; 1 to 32), or a role that is not User, Operator or Admin.</summary>
    public const string InvalidUser = "GoqInvalidUser";

    /// <summary>A user command (Grant-GoqUser, ...) on a home that is not a multi-user cluster (Initialize-GoqHome -MultiUser).</summary>
    public const string NotMultiUser = "GoqNotMultiUser";

    /// <summary>
    /// True for the ids that mean "this host's peers cannot join the server at all" (refused credentials, clocks too far
    /// apart, another protocol version, a worker announcement the server refuses), as opposed to a slow or absent
    /// answer (<see cref="ServerUnreachable"/>) or a failure of one request (<see cref="ServerError"/>).
    /// </summary>
    public static bool IsJoinRefusal(string errorId) =>
        errorId is CredentialsRejected or CredentialRevoked or CredentialsMissing or ClockSkew or ProtocolVersionMismatch or WorkerStartFailed;
}
