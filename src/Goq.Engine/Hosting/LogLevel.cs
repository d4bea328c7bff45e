namespace Goq.Hosting;

public enum LogLevel
{
    Info,
    Warning,
    Error,
}
