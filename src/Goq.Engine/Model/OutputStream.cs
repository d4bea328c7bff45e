namespace Goq;

/// <summary>Which standard stream of a job a line came from.</summary>
public enum OutputStream
{
    Stdout = 1,
    Stderr = 2,
}
