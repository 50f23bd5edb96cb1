using System.Buffers;
using Serving.Worker.Batching;

namespace Serving.Worker.Transport;

/// <summary>
/// A runner's answer to one call as the API worker received it: the output in a pooled buffer
/// (<see cref="Release"/> returns it), or a status with the message for the client.
/// </summary>
internal readonly struct RunnerReply
{
    private readonly byte[]? _buffer;
    private readonly int _length;

    private RunnerReply(ItemStatus status, byte[]? buffer, int length, string? message, TimeSpan retryAfter)
    {
        Status = status;
        _buffer = buffer;
        _length = length;
        Message = message;
        RetryAfter = retryAfter;
    }

    public ItemStatus Status { get; }
    public ReadOnlyMemory<byte> Output => _buffer is null ? ReadOnlyMemory<byte>.Empty : new(_buffer, 0, _length);
    public string? Message { get; }

    /// <summary>When a retry may succeed (Overloaded, Stopping, Unreachable); zero when the runner gave none.</summary>
    public TimeSpan RetryAfter { get; }

    public static RunnerReply Ok(byte[]? pooled, int length) => new(ItemStatus.Ok, pooled, length, null, TimeSpan.Zero);

    public static RunnerReply Error(ItemStatus status, string message, TimeSpan retryAfter = default) => new(status, null, 0, message, retryAfter);

    /// <summary>Gives the output's pooled buffer back; the reply's output must not be used after.</summary>
    public void Release()
    {
        if (_buffer is not null)
            ArrayPool<byte>.Shared.Return(_buffer);
    }
}
