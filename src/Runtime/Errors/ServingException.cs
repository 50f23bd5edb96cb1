namespace Serving.Runtime.Errors;

/// <summary>
/// The one exception type the runtime throws for a user-facing failure. It carries a stable
/// <see cref="ErrorId"/> (see <see cref="ErrorIds"/>), a message that says what was wrong and how
/// to fix it, and keeps the low-level cause as its inner exception. The runtime never references
/// System.Management.Automation; cmdlets turn this into an ErrorRecord.
/// </summary>
public sealed class ServingException : Exception
{
    public ServingException(string errorId, ServingErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>The stable ErrorId; a constant of <see cref="ErrorIds"/>.</summary>
    public string ErrorId { get; }

    public ServingErrorKind Kind { get; }

    /// <summary>The object the error is about (a path, an address, a key).</summary>
    public object? Target { get; }
}
