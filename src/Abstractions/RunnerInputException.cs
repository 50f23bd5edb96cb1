namespace Serving.Abstractions;

/// <summary>
/// Thrown by a runner method when its input is invalid. The caller gets HTTP 400 or gRPC
/// INVALID_ARGUMENT with this exception's message; nothing else about the runner leaks.
/// </summary>
public sealed class RunnerInputException : Exception
{
    public RunnerInputException(string message) : base(message) { }
    public RunnerInputException(string message, Exception innerException) : base(message, innerException) { }
}
