using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets;

/// <summary>
/// The one way the cmdlet layer makes an ErrorRecord for a Goq error: the stable ErrorId stays, the kind picks the
/// category (so a record's exception and its category never disagree), and every record says what to do about it
/// (ErrorDetails.RecommendedAction). The only records made otherwise are a job's own, rebuilt as the job wrote them
/// (<see cref="RecordWriter"/>).
/// </summary>
internal static class ErrorRecordFactory
{
    public static ErrorRecord From(GoqException ex, object? target = null) =>
        WithAction(new ErrorRecord(ex, ex.ErrorId, CategoryOf(ex.Kind), target ?? ex.Target), ex);

    /// <summary>
    /// A record for an error the cmdlet layer finds itself. <paramref name="errorId"/> is one of <see cref="GoqErrorIds"/>;
    /// the recommended action is that id's (<see cref="GoqRecommendedActions"/>) unless one is given.
    /// </summary>
    public static ErrorRecord Create(string errorId, GoqErrorKind kind, string message, object? target, string? recommendedAction = null, Exception? inner = null) =>
        From(new GoqException(errorId, kind, message, inner) { RecommendedAction = recommendedAction ?? GoqRecommendedActions.For(errorId) }, target);

    public static ErrorCategory CategoryOf(GoqErrorKind kind) => kind switch
    {
        GoqErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        GoqErrorKind.Connection => ErrorCategory.ConnectionError,
        GoqErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        GoqErrorKind.Security => ErrorCategory.SecurityError,
        GoqErrorKind.Timeout => ErrorCategory.OperationTimeout,
        GoqErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        GoqErrorKind.InvalidData => ErrorCategory.InvalidData,
        GoqErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
        GoqErrorKind.NotParsable => ErrorCategory.ParserError,
        GoqErrorKind.NotWritable => ErrorCategory.WriteError,
        GoqErrorKind.NotReadable => ErrorCategory.ReadError,
        GoqErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        _ => ErrorCategory.InvalidOperation,
    };

    private static ErrorRecord WithAction(ErrorRecord record, GoqException ex)
    {
        record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction };
        return record;
    }
}
