using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Serving.Worker.Transport;

/// <summary>
/// The framing of the runner protocol: a 9-byte header — payload length (uint32, little-endian), frame
/// type (1 byte), call id (uint32, little-endian; 0 for connection frames) — then the payload.
/// Length-prefixed frames multiplexed by call id over a few persistent connections: no HTTP/2 stream
/// state, no HPACK, no gRPC message framing or trailers on the hop (docs/worker-protocol.md).
/// </summary>
internal static class RunnerFrames
{
    public const int HeaderLength = 9;
    public const ushort Version = 1;

    /// <summary>The fixed part of a Call payload before the method name: api index (2), timeout ms (4), flags (1), method length (1), request id length (1).</summary>
    private const int CallFixedLength = 9;

    /// <summary>
    /// Reads one frame from <paramref name="buffer"/> and slices it off; false when the buffer does not
    /// hold a whole frame yet. A frame announcing more than <paramref name="maxPayload"/> bytes is a
    /// violation (the peer is told and the connection closed) — it is never buffered.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, long maxPayload, out Frame frame)
    {
        frame = default;
        if (buffer.Length < HeaderLength)
            return false;
        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var length = ReadHeader(header, maxPayload, out var type, out var id);
        if (buffer.Length - HeaderLength < length)
            return false;
        frame = new Frame(type, id, buffer.Slice(HeaderLength, length));
        buffer = buffer.Slice(HeaderLength + length);
        return true;
    }

    /// <summary>
    /// Reads a frame header (<see cref="HeaderLength"/> bytes) and returns the payload's length; a length
    /// over <paramref name="maxPayload"/> is a <see cref="ProtocolViolationException"/> (both ends' rule).
    /// </summary>
    public static uint ReadHeader(ReadOnlySpan<byte> header, long maxPayload, out FrameType type, out uint id)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > maxPayload)
            throw new ProtocolViolationException($"a frame of {length} bytes exceeds the limit of {maxPayload} bytes (maxMessageBytes)");
        type = (FrameType)header[4];
        id = BinaryPrimitives.ReadUInt32LittleEndian(header[5..]);
        return length;
    }

    /// <summary>Writes a frame header; the caller writes exactly <paramref name="payloadLength"/> bytes after it.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, FrameType type, uint id, int payloadLength)
    {
        var span = writer.GetSpan(HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)payloadLength);
        span[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(span[5..], id);
        writer.Advance(HeaderLength);
    }

    /// <summary>A frame with no payload (Cancel, Ping, GoAway).</summary>
    public static void WriteEmpty(IBufferWriter<byte> writer, FrameType type, uint id) => WriteHeader(writer, type, id, 0);

    public static void WriteHello(IBufferWriter<byte> writer, string? secret)
    {
        var secretLength = secret is null ? 0 : Encoding.UTF8.GetByteCount(secret);
        WriteHeader(writer, FrameType.Hello, 0, 2 + secretLength);
        var span = writer.GetSpan(2 + secretLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span, Version);
        if (secret is not null)
            Encoding.UTF8.GetBytes(secret, span[2..]);
        writer.Advance(2 + secretLength);
    }

    public static void WriteWelcome(IBufferWriter<byte> writer, long maxPayload, string worker)
    {
        var nameLength = Encoding.UTF8.GetByteCount(worker);
        WriteHeader(writer, FrameType.Welcome, 0, 6 + nameLength);
        var span = writer.GetSpan(6 + nameLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span, Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[2..], (uint)Math.Min(maxPayload, uint.MaxValue));
        Encoding.UTF8.GetBytes(worker, span[6..]);
        writer.Advance(6 + nameLength);
    }

    public static void WritePong(IBufferWriter<byte> writer, uint id, bool serving)
    {
        WriteHeader(writer, FrameType.Pong, id, 1);
        var span = writer.GetSpan(1);
        span[0] = serving ? (byte)1 : (byte)0;
        writer.Advance(1);
    }

    public static void WriteError(IBufferWriter<byte> writer, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(reason);
        WriteHeader(writer, FrameType.Error, 0, bytes.Length);
        writer.Write(bytes);
    }

    /// <summary>The size of a Call frame's payload besides the input (for the body limit).</summary>
    public static int CallOverhead(string method, int requestIdBytes = 255) =>
        CallFixedLength + Encoding.UTF8.GetByteCount(method) + requestIdBytes;

    /// <summary>
    /// A Call: api index (int16, −1 for none: the method's own batch settings), timeout in ms (uint32,
    /// 0 none), flags (bit 0: the input may be an <c>{"instances":[…]}</c> envelope), method name and
    /// request id (each a length byte then UTF-8), then the input to the end of the frame.
    /// </summary>
    public static void WriteCall(IBufferWriter<byte> writer, uint id, in CallHeader call, ReadOnlySpan<byte> input)
    {
        var methodLength = call.MethodUtf8.Length;
        var requestLength = Math.Min(Encoding.UTF8.GetByteCount(call.RequestId), 255);
        var payload = CallFixedLength + methodLength + requestLength + input.Length;
        WriteHeader(writer, FrameType.Call, id, payload);
        var span = writer.GetSpan(CallFixedLength + methodLength + requestLength);
        BinaryPrimitives.WriteInt16LittleEndian(span, call.ApiIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(span[2..], call.TimeoutMs);
        span[6] = call.Flags;
        span[7] = (byte)methodLength;
        call.MethodUtf8.Span.CopyTo(span[8..]);
        span[8 + methodLength] = (byte)requestLength;
        if (requestLength == call.RequestId.Length)
            Encoding.UTF8.GetBytes(call.RequestId, span[(9 + methodLength)..]);
        else
            Encoding.UTF8.GetBytes(call.RequestId.AsSpan(0, Math.Min(call.RequestId.Length, 255)), span[(9 + methodLength)..]);
        writer.Advance(CallFixedLength + methodLength + requestLength);
        writer.Write(input);
    }

    /// <summary>Parses a Call payload; the input is a slice of <paramref name="payload"/>.</summary>
    public static ParsedCall ReadCall(ReadOnlySequence<byte> payload)
    {
        if (payload.Length < CallFixedLength)
            throw new ProtocolViolationException("a call frame is too short");
        Span<byte> fixedPart = stackalloc byte[8];
        payload.Slice(0, 8).CopyTo(fixedPart);
        var apiIndex = BinaryPrimitives.ReadInt16LittleEndian(fixedPart);
        var timeoutMs = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[2..]);
        var flags = fixedPart[6];
        int methodLength = fixedPart[7];
        if (payload.Length < CallFixedLength + methodLength)
            throw new ProtocolViolationException("a call frame is too short for its method name");
        var method = payload.Slice(8, methodLength);
        var requestLength = payload.Slice(8 + methodLength, 1).FirstSpan[0];
        var afterMethod = 9 + methodLength;
        if (payload.Length < afterMethod + requestLength)
            throw new ProtocolViolationException("a call frame is too short for its request id");
        var requestId = Encoding.UTF8.GetString(payload.Slice(afterMethod, requestLength));
        return new ParsedCall(apiIndex, timeoutMs, flags, method, requestId, payload.Slice(afterMethod + requestLength));
    }

    /// <summary>
    /// A Reply: status (1 byte, <see cref="Batching.ItemStatus"/>); for Ok the output to the end of the
    /// frame; otherwise retry-after in ms (uint32, 0 none) and the message for the client in UTF-8.
    /// </summary>
    public static void WriteReply(IBufferWriter<byte> writer, uint id, in Batching.ItemResult result, uint retryAfterMs = 0)
    {
        if (result.Status == Batching.ItemStatus.Ok)
        {
            var output = result.Output.Span;
            WriteHeader(writer, FrameType.Reply, id, 1 + output.Length);
            var span = writer.GetSpan(1);
            span[0] = 0;
            writer.Advance(1);
            writer.Write(output);
            return;
        }
        var message = result.Message ?? "";
        var messageLength = Encoding.UTF8.GetByteCount(message);
        WriteHeader(writer, FrameType.Reply, id, 5 + messageLength);
        var head = writer.GetSpan(5 + messageLength);
        head[0] = (byte)result.Status;
        BinaryPrimitives.WriteUInt32LittleEndian(head[1..], retryAfterMs);
        Encoding.UTF8.GetBytes(message, head[5..]);
        writer.Advance(5 + messageLength);
    }
}
