using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets;

/// <summary>
/// Maps engine errors to ErrorRecords: the stable ErrorId stays, the kind picks the category, and every record says
/// what to do about it (ErrorDetails.RecommendedAction).
/// </summary>
internal static class ErrorRecordFactory
{
    public static ErrorRecord From(GoqException ex, object? target = null) =>
        WithAction(new ErrorRecord(ex, ex.ErrorId, CategoryOf(ex.Kind), target ?? ex.Target), ex);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target, string? recommendedAction = null)
    {
        var ex = new GoqException(errorId, GoqErrorKind.InvalidOperation, message) { RecommendedAction = recommendedAction ?? GoqRecommendedActions.For(errorId) };
        return WithAction(new ErrorRecord(ex, errorId, category, target), ex);
    }

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
        _ => ErrorCategory.InvalidOperation,
    };

    private static ErrorRecord WithAction(ErrorRecord record, GoqException ex)
    {
        record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction };
        return record;
    }
}
