namespace Serving.Worker.Batching;

/// <summary>The outcome of one item of a runner call (see <see cref="ItemStatus"/>).</summary>
internal readonly struct ItemResult
{
    private ItemResult(ItemStatus status, ReadOnlyMemory<byte> output, string? message, Exception? exception)
    {
        Status = status;
        Output = output;
        Message = message;
        Exception = exception;
    }

    public ItemStatus Status { get; }

    /// <summary>The encoded output (Ok only). The receiver must copy it before it returns if it keeps it past the call.</summary>
    public ReadOnlyMemory<byte> Output { get; }

    /// <summary>For the client, never a stack trace or a .NET type name (non-Ok only).</summary>
    public string? Message { get; }

    /// <summary>For the operator's log only (Failed).</summary>
    public Exception? Exception { get; }

    public static ItemResult Ok(ReadOnlyMemory<byte> output) => new(ItemStatus.Ok, output, null, null);

    public static ItemResult Error(ItemStatus status, string message, Exception? exception = null) => new(status, default, message, exception);
}
