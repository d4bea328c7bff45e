namespace Goq.Identity;

/// <summary>What a user of a multi-user cluster may do (see <see cref="AccessPolicy"/>).</summary>
public enum GoqRole
{
    /// <summary>Submits jobs and changes their own.</summary>
    User,

    /// <summary>Also changes anyone's jobs, and drains or stops workers.</summary>
    Operator,

    /// <summary>Everything: users, queue limits, stopping the server. Whoever holds the cluster secret acts as one.</summary>
    Admin,
}
