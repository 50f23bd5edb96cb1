using System.Buffers;

namespace Serving.Worker.Transport;

/// <summary>A call as the runner read it; <see cref="MethodUtf8"/> and <see cref="Input"/> slice the read buffer.</summary>
internal readonly struct ParsedCall(short apiIndex, uint timeoutMs, byte flags, ReadOnlySequence<byte> methodUtf8, string requestId, ReadOnlySequence<byte> input)
{
    public short ApiIndex { get; } = apiIndex;
    public uint TimeoutMs { get; } = timeoutMs;
    public byte Flags { get; } = flags;
    public ReadOnlySequence<byte> MethodUtf8 { get; } = methodUtf8;
    public string RequestId { get; } = requestId;
    public ReadOnlySequence<byte> Input { get; } = input;
}
