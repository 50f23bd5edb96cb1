namespace Serving.Worker.Batching;

/// <summary>
/// How one item of a runner call ended: the per-item status of the runner protocol
/// (docs/worker-protocol.md, "Runner calls"). One bad item fails only its own request.
/// </summary>
internal enum ItemStatus : byte
{
    /// <summary>The item's output is in <see cref="ItemResult.Output"/>.</summary>
    Ok = 0,

    /// <summary>The input does not fit (RunnerInputException, JSON of the wrong shape): the message is for the client (400).</summary>
    InvalidInput = 1,

    /// <summary>The runner failed: the message names runner and method only; the exception is for the log (500).</summary>
    Failed = 2,

    /// <summary>The caller cancelled the item before it ran (its answer goes nowhere).</summary>
    Cancelled = 3,

    /// <summary>Shed: the batch queue was full (503 + Retry-After).</summary>
    Overloaded = 4,

    /// <summary>The item's deadline passed before it ran or finished (504).</summary>
    TimedOut = 5,

    /// <summary>The runner has no such method (500: the manifest and the runner disagree).</summary>
    UnknownMethod = 6,

    /// <summary>The runner worker is stopping and did not run the item (503 + Retry-After).</summary>
    Stopping = 7,

    /// <summary>The output exceeds the message limit between API and runner workers (maxMessageBytes; 500).</summary>
    TooLarge = 8,

    /// <summary>
    /// The input is not one JSON value (a JSON API's body: syntax, nesting, UTF-8). The message is a
    /// predicate ("is not valid JSON (…)") the API worker puts "the request body" or "the input" before (400).
    /// </summary>
    InvalidJson = 9,

    /// <summary>
    /// Never sent by a runner: the API worker's own verdict when the runner could not be reached or the
    /// connection was lost before the reply (503 + Retry-After).
    /// </summary>
    Unreachable = 100,
}
