using System.Management.Automation;
using Goq.Errors;

namespace Goq.Cmdlets;

/// <summary>Maps engine errors to ErrorRecords: the stable ErrorId stays, the kind picks the category.</summary>
internal static class ErrorRecordFactory
{
    public static ErrorRecord From(GoqException ex, object? target = null) =>
        new(ex, ex.ErrorId, CategoryOf(ex.Kind), target ?? ex.Target);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target) =>
        new(new GoqException(errorId, GoqErrorKind.InvalidOperation, message), errorId, category, target);

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
}
