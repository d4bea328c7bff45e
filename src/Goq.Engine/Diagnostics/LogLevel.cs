namespace Goq.Diagnostics;

public enum LogLevel
{
    Info,
    Warning,
    Error,
}
