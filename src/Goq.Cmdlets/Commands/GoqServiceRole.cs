namespace Goq.Cmdlets.Commands;

/// <summary>Which Goq role a service unit runs (New-GoqServiceUnit -Role).</summary>
public enum GoqServiceRole
{
    Server,
    Worker,
}
