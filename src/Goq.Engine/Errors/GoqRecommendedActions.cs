namespace Goq.Errors;

/// <summary>What a user should do about each error id: the ErrorRecord's RecommendedAction when the error names none.</summary>
public static class GoqRecommendedActions
{
    private static readonly Dictionary<string, string> Actions = new(StringComparer.Ordinal)
    {
        [GoqErrorIds.ServerUnreachable] = "Check that the server runs (Get-GoqServer; Start-GoqServer) and that this home's .goq holds the server's public key and cluster secret.",
        [GoqErrorIds.ServerAlreadyRunning] = "Use the running server, or stop it first with Stop-GoqServer.",
        [GoqErrorIds.ServerStartFailed] = "Read the server log (.goq/server.log) for the cause, mend it, and start the server again.",
        [GoqErrorIds.PortInUse] = "Stop whatever listens on the port, or choose another one with -Port or GOQ_JSERV_PORT.",
        [GoqErrorIds.HomeNotInitialized] = "Run Initialize-GoqHome, or point -Home or GOQ_HOME at an initialized home.",
        [GoqErrorIds.HomeAlreadyInitialized] = "Use the home as it is, or pass -Force to replace its configuration and keys.",
        [GoqErrorIds.InvalidConfig] = "Mend .goq/config.json, or re-create it with Initialize-GoqHome -Force.",
        [GoqErrorIds.JobNotFound] = "List the known jobs with Get-GoqJob; removed jobs are gone for good.",
        [GoqErrorIds.JobStarted] = "Change only waiting or blocked jobs (Get-GoqJob -State Waiting, Blocked); a job that runs or ended keeps what it was given.",
        [GoqErrorIds.DependencyNotFound] = "Name jobs that exist in -DependsOn (Get-GoqJob lists them); a job can only depend on jobs submitted before it.",
        [GoqErrorIds.InvalidQueue] = "Name the queue with 1 to 64 letters, digits, '-', '_' or '.', and give a throttle limit of 0 (none) or more.",
        [GoqErrorIds.WorkerNotFound] = "List the connected workers with Get-GoqWorker.",
        [GoqErrorIds.WorkerRestartUnsupported] = "Run Stop-GoqWorker -Restart on the worker's own host, for a worker started without -NoJobKeeper.",
        [GoqErrorIds.WorkerAlreadyRunning] = "Give the running worker more slots instead (stop it, start one with a larger -Slots), or pass -Force to start a second worker with the same queues and labels.",
        [GoqErrorIds.WorkerStartFailed] = "Read the worker's log in .goq for the cause, mend it, and start the worker again.",
        [GoqErrorIds.InvalidJobSpec] = "Correct the job's parameters and submit it again.",
        [GoqErrorIds.ArgumentListTooLong] = "Pass the data in a file (or on the standard input of a command that reads it) instead of as an argument or a variable.",
        [GoqErrorIds.ArgumentNotSerializable] = "Flatten the value (or pass it as JSON, ConvertTo-Json, and read it back in the job) and submit the job again.",
        [GoqErrorIds.InvalidEnvironment] = "Give each variable a name without '=' or NUL, and a value without NUL.",
        [GoqErrorIds.ServerNotRunning] = "Start the server (Start-GoqServer), or check -Home and GOQ_HOME name the home you mean.",
        [GoqErrorIds.UsingVariableNotFound] = "Define the variable before submitting the job, or remove the $using: reference from the script block.",
        [GoqErrorIds.MessageTooLarge] = "Keep a job's command, arguments and environment under the limit: put large data in a file and pass its path.",
        [GoqErrorIds.WorkersNotStopped] = "Look at the workers still listed (Get-GoqWorker) and their logs in .goq; stop them (Stop-GoqWorker, or end their processes), then run Stop-GoqServer again.",
        [GoqErrorIds.WaitTimeout] = "Wait longer (-Timeout), or look at the job with Get-GoqJob.",
        [GoqErrorIds.ServerError] = "Read the server log (.goq/server.log); report it if it looks like a bug in Goq.",
        [GoqErrorIds.StoreUnavailable] = "Free space on the server's disk (or mend the file system its home is on), then try again: the server takes changes again by itself once it can store them.",
        [GoqErrorIds.StoreUnusable] = "Move the job database aside to start with an empty queue, or use the Goq version that wrote it.",
        [GoqErrorIds.JobNotEnded] = "Stop the job first (Stop-GoqJob), or wait for it to end (Wait-GoqJob).",
        [GoqErrorIds.CredentialsMissing] = "Initialize the home (Initialize-GoqHome), or import the server home's archive (Export-GoqHome there, Import-GoqHome here).",
        [GoqErrorIds.AccessDenied] = "Ask the job's owner, an Operator or an Admin to do it; an Admin can change your role (Set-GoqUser -Role).",
        [GoqErrorIds.CredentialRevoked] = "Ask an Admin of the cluster for a new key (Grant-GoqUser -User <you> -Force).",
        [GoqErrorIds.UserNotFound] = "List the cluster's users with Get-GoqUser; grant a new one with Grant-GoqUser.",
        [GoqErrorIds.InvalidUser] = "Give a login name (letters, digits, '.', '_' or '-', 1 to 32 characters) and a role of User, Operator or Admin.",
        [GoqErrorIds.NotMultiUser] = "Make the server's home a multi-user cluster (Initialize-GoqHome -MultiUser, as root), or use its cluster secret as today.",
        [GoqErrorIds.CredentialsRejected] = "Import the server home's archive here: Export-GoqHome on the server's host, Import-GoqHome -Force here.",
        [GoqErrorIds.ScriptNotFound] = "Check the path (relative paths start at the current location); a file that only the worker's host has can run as a command line.",
        [GoqErrorIds.FileNotWritable] = "Check that the folder exists and that you may write to it.",
        [GoqErrorIds.HomeNotWritable] = "Choose a folder you can write to (-Path), or fix the permissions of this one.",
        [GoqErrorIds.JobOutputUnreadable] = "Read the job's output with Receive-GoqJob (add -ViaServer when this host cannot read its output file).",
        [GoqErrorIds.InvalidHomeArchive] = "Write the archive again with Export-GoqHome on the server's host, and import that file as it is.",
        [GoqErrorIds.HomeOfAnotherCluster] = "Import into another folder (-Home), or pass -Force to make this home join the archive's cluster.",
        [GoqErrorIds.ClockSkew] = "Synchronize this host's clock with the server's (NTP), or widen GOQ_REPLAY_WINDOW_SEC on both.",
        [GoqErrorIds.ProtocolVersionMismatch] = "Run the same Goq version on the server, the workers and the clients.",
        [GoqErrorIds.MalformedMessage] = "Run the same Goq version on the server, the workers and the clients.",
    };

    /// <summary>The recommended action for an error id; a general one for ids without their own.</summary>
    public static string For(string errorId) =>
        Actions.GetValueOrDefault(errorId) ?? "See the error message; Get-Help about the cmdlet describes its parameters.";
}
