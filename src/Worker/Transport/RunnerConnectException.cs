namespace Serving.Worker.Transport;

/// <summary>A runner connection could not be opened, or the runner refused its hello; the message says why.</summary>
internal sealed class RunnerConnectException(string message, Exception? inner = null) : Exception(message, inner);
