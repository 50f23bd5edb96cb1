using System.Buffers;

namespace Serving.Worker.Transport;

/// <summary>A frame whose header was read; <see cref="Payload"/> is a slice of the reader's buffer.</summary>
internal readonly struct Frame(FrameType type, uint id, ReadOnlySequence<byte> payload)
{
    public FrameType Type { get; } = type;
    public uint Id { get; } = id;
    public ReadOnlySequence<byte> Payload { get; } = payload;
}
