using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>The one place a runtime <see cref="ServingException"/> becomes an <see cref="ErrorRecord"/>.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(ServingException e) =>
        new(e, e.ErrorId, Category(e.Kind), e.Target);

    public static ErrorRecord From(string errorId, ErrorCategory category, string message, object? target, Exception? inner = null) =>
        new(new ServingException(errorId, ServingErrorKind.InvalidOperation, message, target, inner), errorId, category, target);

    private static ErrorCategory Category(ServingErrorKind kind) => kind switch
    {
        ServingErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ServingErrorKind.InvalidData => ErrorCategory.InvalidData,
        ServingErrorKind.NotImplemented => ErrorCategory.NotImplemented,
        ServingErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ServingErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ServingErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        ServingErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        ServingErrorKind.NotInstalled => ErrorCategory.NotInstalled,
        _ => ErrorCategory.InvalidOperation,
    };
}
