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

    /// <summary>Text (a script) that does not parse.</summary>
    NotParsable,

    /// <summary>A file or folder that could not be written.</summary>
    NotWritable,

    /// <summary>A file or stream that could not be read.</summary>
    NotReadable,

    /// <summary>A request refused for lack of rights (another user's job, an Admin's action).</summary>
    PermissionDenied,
}
