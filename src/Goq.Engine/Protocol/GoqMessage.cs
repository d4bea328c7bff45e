using System.Text.Json.Serialization;

namespace Goq.Protocol;

/// <summary>
/// The base of every message kind. One sealed record per kind (never goq's universal Job struct); the
/// discriminator "k" names the kind on the wire. Adding a kind means a new file and one line here.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "k", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(SubmitJobs), "submit")]
[JsonDerivedType(typeof(SubmitJobsReply), "submit-reply")]
[JsonDerivedType(typeof(GetJobs), "get-jobs")]
[JsonDerivedType(typeof(JobsReply), "jobs-reply")]
[JsonDerivedType(typeof(GetServerStatus), "get-status")]
[JsonDerivedType(typeof(ServerStatusReply), "status-reply")]
[JsonDerivedType(typeof(GetWorkers), "get-workers")]
[JsonDerivedType(typeof(WorkersReply), "workers-reply")]
[JsonDerivedType(typeof(WatchJobs), "watch")]
[JsonDerivedType(typeof(WatchReply), "watch-reply")]
[JsonDerivedType(typeof(UnwatchJobs), "unwatch")]
[JsonDerivedType(typeof(JobFinishedNotice), "finished-notice")]
[JsonDerivedType(typeof(ReadOutput), "read-output")]
[JsonDerivedType(typeof(OutputReply), "output-reply")]
[JsonDerivedType(typeof(GetOutputMap), "get-output-map")]
[JsonDerivedType(typeof(OutputMapReply), "output-map-reply")]
[JsonDerivedType(typeof(ReadOutputBytes), "read-output-bytes")]
[JsonDerivedType(typeof(OutputBytesReply), "output-bytes-reply")]
[JsonDerivedType(typeof(ShutdownServer), "shutdown")]
[JsonDerivedType(typeof(Ack), "ack")]
[JsonDerivedType(typeof(ErrorReply), "error")]
[JsonDerivedType(typeof(WorkerHello), "worker-hello")]
[JsonDerivedType(typeof(WorkerHelloReply), "worker-hello-reply")]
[JsonDerivedType(typeof(WorkerBye), "worker-bye")]
[JsonDerivedType(typeof(DispatchJob), "dispatch")]
[JsonDerivedType(typeof(JobStarted), "job-started")]
[JsonDerivedType(typeof(JobOutput), "job-output")]
[JsonDerivedType(typeof(JobFinished), "job-finished")]
[JsonDerivedType(typeof(ShutdownWorker), "shutdown-worker")]
[JsonDerivedType(typeof(ServerStopping), "server-stopping")]
[JsonDerivedType(typeof(StopWorkers), "stop-workers")]
[JsonDerivedType(typeof(StopWorkersReply), "stop-workers-reply")]
[JsonDerivedType(typeof(JobFinishedAck), "finished-ack")]
[JsonDerivedType(typeof(OutputAck), "output-ack")]
[JsonDerivedType(typeof(JobOutputWritten), "output-written")]
[JsonDerivedType(typeof(CancelJobs), "cancel")]
[JsonDerivedType(typeof(CancelJobsReply), "cancel-reply")]
[JsonDerivedType(typeof(CancelJob), "cancel-job")]
[JsonDerivedType(typeof(RemoveJobs), "remove")]
[JsonDerivedType(typeof(RemoveJobsReply), "remove-reply")]
[JsonDerivedType(typeof(DismissJobs), "dismiss")]
[JsonDerivedType(typeof(DismissJobsReply), "dismiss-reply")]
[JsonDerivedType(typeof(RelayHello), "relay-hello")]
[JsonDerivedType(typeof(JobReturned), "job-returned")]
[JsonDerivedType(typeof(SetJobs), "set-jobs")]
[JsonDerivedType(typeof(SetJobsReply), "set-jobs-reply")]
[JsonDerivedType(typeof(RestartJobs), "restart")]
[JsonDerivedType(typeof(GetQueues), "get-queues")]
[JsonDerivedType(typeof(SetQueue), "set-queue")]
[JsonDerivedType(typeof(QueuesReply), "queues-reply")]
[JsonDerivedType(typeof(GrantUser), "grant-user")]
[JsonDerivedType(typeof(UserGrantedReply), "user-granted")]
[JsonDerivedType(typeof(GetUsers), "get-users")]
[JsonDerivedType(typeof(SetUser), "set-user")]
[JsonDerivedType(typeof(RevokeUser), "revoke-user")]
[JsonDerivedType(typeof(UsersReply), "users-reply")]
public abstract record GoqMessage;

/// <summary>What a client may ask of the server: every kind has exactly one handler there (GoqServer.Handlers).</summary>
public abstract record ClientRequest : GoqMessage;

/// <summary>What a worker may tell the server: every kind has exactly one handler there (GoqServer.Handlers).</summary>
public abstract record WorkerReport : GoqMessage;
