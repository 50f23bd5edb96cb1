namespace Serving.Runtime.Errors;

/// <summary>What kind of failure a <see cref="ServingException"/> is; cmdlets map it to ErrorCategory.</summary>
public enum ServingErrorKind
{
    InvalidArgument,
    InvalidData,
    NotImplemented,
    ObjectNotFound,
    ResourceUnavailable,
    ResourceExists,
    OperationTimeout,
    InvalidOperation,
    NotInstalled,
}
