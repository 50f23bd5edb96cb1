namespace Serving.Worker.Transport;

/// <summary>What the API worker sends with a call besides its input.</summary>
internal readonly struct CallHeader(short apiIndex, ReadOnlyMemory<byte> methodUtf8, uint timeoutMs, byte flags, string requestId)
{
    public short ApiIndex { get; } = apiIndex;
    public ReadOnlyMemory<byte> MethodUtf8 { get; } = methodUtf8;
    public uint TimeoutMs { get; } = timeoutMs;
    public byte Flags { get; } = flags;
    public string RequestId { get; } = requestId;

    /// <summary>Flag: the input may be an <c>{"instances":[…]}</c> envelope (a JSON API).</summary>
    public const byte InstancesAllowed = 1;
}
