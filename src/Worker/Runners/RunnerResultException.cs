namespace Serving.Worker.Runners;

/// <summary>
/// A runner method returned a result its encoder cannot write (a JSON output holding NaN or
/// Infinity, a cycle, a type the runner's JsonOptions cannot serialise), or a batch result of the
/// wrong length: a runner failure, not the client's. The message is for the client and names no .NET
/// type; the inner exception, when there is one, is for the log.
/// </summary>
internal sealed class RunnerResultException(string message, Exception? inner = null) : Exception(message, inner);
