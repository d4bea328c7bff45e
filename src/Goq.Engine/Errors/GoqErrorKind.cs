namespace Goq.Errors;

/// <summary>What kind of failure an error is; the cmdlets map it to an ErrorCategory.</summary>
public enum GoqErrorKind
{
    InvalidOperation,
    NotFound,
    Connection,
    InvalidArgument,
    Security,
    Timeout,
    ResourceUnavailable,
    InvalidData,
    AlreadyExists,
}
