namespace Serving.Worker.Batching;

/// <summary>
/// One call of a batchable runner method over <paramref name="inputs"/>: each input is decoded on its
/// own (one that does not decode gets its <see cref="ItemStatus.InvalidInput"/> result and is left out
/// of the call), the method is called once with the rest, and each output is encoded on its own (one
/// that cannot be encoded fails alone). Writes exactly one result per input into
/// <paramref name="results"/>, in order, and never throws for a runner's failure.
/// </summary>
/// <remarks>
/// When the call throws, the batch is isolated: its halves are called again, and a half that throws is
/// halved again, down to single inputs; an input fails only when it fails alone (so a lone bad input in
/// a batch of n costs about 2·log₂n calls instead of failing n requests). A result list of the wrong
/// length (or null) fails every input of that call: which output belongs to which input is unknown.
/// A throw after <paramref name="cancellationToken"/> was cancelled is not isolated: every input of
/// the call is <see cref="ItemStatus.Cancelled"/>.
/// </remarks>
/// <returns>How many times the method was called: 0 when no input decoded, 1 normally, more after isolation.</returns>
internal delegate ValueTask<int> BatchInvoker(ReadOnlyMemory<ReadOnlyMemory<byte>> inputs, Memory<ItemResult> results, CancellationToken cancellationToken);
