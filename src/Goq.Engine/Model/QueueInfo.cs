namespace Goq;

/// <summary>A queue: what <c>Get-GoqQueue</c> and <c>Set-GoqQueue</c> return.</summary>
public sealed class QueueInfo
{
    public string Name { get; set; } = "";

    /// <summary>Jobs waiting for a slot (or for their -NotBefore time).</summary>
    public int WaitingJobs { get; set; }

    /// <summary>Jobs waiting for the jobs they depend on.</summary>
    public int BlockedJobs { get; set; }

    /// <summary>Jobs a user holds.</summary>
    public int HeldJobs { get; set; }

    /// <summary>Jobs running (or handed to a worker ahead of a free slot).</summary>
    public int RunningJobs { get; set; }

    /// <summary>How many of its jobs may run at once cluster-wide; 0 for no cap.</summary>
    public int ThrottleLimit { get; set; }

    /// <summary>Connected workers that serve it.</summary>
    public int Workers { get; set; }

    /// <summary>Their slots, in all.</summary>
    public int Slots { get; set; }

    public override string ToString() => $"Goq queue {Name}";
}
