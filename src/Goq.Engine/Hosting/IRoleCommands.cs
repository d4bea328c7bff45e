using Goq.Configuration;

namespace Goq.Hosting;

/// <summary>
/// How this host runs a Goq role in a process of its own. The engine decides when to start one, starts it detached
/// (<see cref="DetachedProcess"/>) and waits until it answers; what the process runs (pwsh importing the module and
/// calling a cmdlet, in Goq.Cmdlets) is the host's business. A role that fails writes a <see cref="FatalLine"/>.
/// </summary>
public interface IRoleCommands
{
    /// <summary>The home's server, run until stopped.</summary>
    ProcessCommand Server(GoqSettings settings);

    /// <summary>A worker with a given id; <paramref name="jobKeeper"/> false runs its jobs in the worker process itself.</summary>
    ProcessCommand Worker(GoqSettings settings, string workerId, WorkerCapacity capacity, bool oneShot, bool jobKeeper);

    /// <summary>The job keeper of a worker: it holds the worker's jobs and outlives the worker process.</summary>
    ProcessCommand Keeper(GoqSettings settings, string workerId, WorkerCapacity capacity);
}
