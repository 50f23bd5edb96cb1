using System.Buffers.Binary;
using System.Text;

namespace Serving.Runtime.Calling;

/// <summary>
/// serving.v1.Serving/Call's two messages (module/proto/serving.proto) in gRPC's length-prefixed framing, written
/// and read by hand: pwsh must load no gRPC or protobuf assembly, and these are a few fields.
/// CallRequest: api = 1 (string), oneof input { json = 2 (bytes), text = 3 (string), data = 4 (bytes) }.
/// CallReply: oneof output { json = 1 (bytes), text = 2 (string), data = 3 (bytes) }.
/// </summary>
public static class GrpcCallMessages
{
    /// <summary>The method's path on the host.</summary>
    public const string CallPath = "/serving.v1.Serving/Call";

    /// <summary>The gRPC frame prefix: a compressed flag byte and a big-endian 4-byte length.</summary>
    public const int FramePrefixLength = 5;

    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private const int Wire64 = 1;
    private const int Wire32 = 5;

    /// <summary>One framed CallRequest. An empty payload is sent as no input at all (the proto's empty oneof).</summary>
    public static byte[] EncodeCallRequest(string api, ApiPayload input)
    {
        var body = new MemoryStream();
        WriteBytesField(body, 1, Encoding.UTF8.GetBytes(api));
        if (input.Bytes.Length > 0)
        {
            var field = input.Kind switch { PayloadKind.Json => 2, PayloadKind.Text => 3, _ => 4 };
            WriteBytesField(body, field, input.Bytes);
        }
        return Frame(body.ToArray());
    }

    /// <summary>
    /// The CallReply in a response body of exactly one uncompressed frame. A reply with no output set (an empty
    /// oneof) is an empty Bytes payload; unknown fields are skipped as protobuf says.
    /// </summary>
    public static ApiPayload DecodeCallReply(ReadOnlySpan<byte> responseBody)
    {
        var message = Unframe(responseBody);
        var output = ApiPayload.Empty;
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            if (wire == WireLengthDelimited)
            {
                var length = checked((int)ReadVarint(message, ref position));
                if (length < 0 || position + length > message.Length) throw Malformed("a field runs past the end of the message");
                var value = message.Slice(position, length).ToArray();
                position += length;
                output = field switch
                {
                    1 => ApiPayload.Json(value),
                    2 => ApiPayload.Of(PayloadKind.Text, value),
                    3 => ApiPayload.FromBytes(value),
                    _ => output,
                };
            }
            else
            {
                Skip(message, wire, ref position);
            }
        }
        return output;
    }

    /// <summary>The 5-byte prefix (not compressed, length) and the message.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var frame = new byte[FramePrefixLength + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(FramePrefixLength));
        return frame;
    }

    /// <summary>The one message of a unary response body; a compressed or cut frame, or more than one, is malformed.</summary>
    public static ReadOnlySpan<byte> Unframe(ReadOnlySpan<byte> body)
    {
        if (body.Length < FramePrefixLength) throw Malformed($"the response has {body.Length} bytes, less than a frame prefix");
        if (body[0] != 0) throw Malformed("the reply is compressed, which this client never asks for");
        var length = BinaryPrimitives.ReadUInt32BigEndian(body[1..]);
        if (length != (uint)(body.Length - FramePrefixLength))
            throw Malformed($"the frame says {length} bytes but {body.Length - FramePrefixLength} came");
        return body[FramePrefixLength..];
    }

    private static void WriteBytesField(Stream stream, int field, byte[] value)
    {
        WriteVarint(stream, (ulong)((field << 3) | WireLengthDelimited));
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= message.Length) throw Malformed("a varint runs past the end of the message");
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Malformed("a varint is longer than 10 bytes");
    }

    private static void Skip(ReadOnlySpan<byte> message, int wire, ref int position)
    {
        var skip = wire switch
        {
            WireVarint => 0,
            Wire64 => 8,
            Wire32 => 4,
            _ => throw Malformed($"wire type {wire} is not one proto3 uses"),
        };
        if (wire == WireVarint) ReadVarint(message, ref position);
        else if (position + skip > message.Length) throw Malformed("a field runs past the end of the message");
        else position += skip;
    }

    private static FormatException Malformed(string why) => new($"The gRPC reply is malformed: {why}.");
}
