using System.Text;

namespace Serving.Runtime.Services.Onnx;

/// <summary>
/// Reads protobuf wire format (varints, length-delimited fields, fixed 32/64-bit values) from a
/// seekable stream, one field at a time. Fields nobody asked for are skipped by seeking, so a model
/// with gigabytes of weights is checked without reading them. Every read is bounded by the end of the
/// message it belongs to; a length that runs past the end of the file is <see cref="OnnxFormatException"/>
/// "truncated", past its enclosing message "malformed".
/// </summary>
internal sealed class ProtobufReader(Stream stream)
{
    /// <summary>Wire types (protobuf encoding): groups (3, 4) are refused, ONNX never writes them.</summary>
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    // Names in an ONNX graph are short; a "string" longer than this means the bytes are not what we think.
    private const int MaxStringBytes = 1 << 20;

    public long Position => stream.Position;
    public long Length => stream.Length;

    /// <summary>Reads the next field's tag, or returns false at <paramref name="end"/>.</summary>
    public bool TryReadTag(long end, out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (stream.Position >= end)
            return false;
        var tag = ReadVarint(end);
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        wireType = (int)(tag & 7);
        if (field == 0 || wireType is 3 or 4 or 6 or 7)
            throw new OnnxFormatException($"an invalid protobuf field tag at byte {stream.Position}");
        return true;
    }

    public ulong ReadVarint(long end)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (stream.Position >= end)
                throw EndReached(end);
            var b = stream.ReadByte();
            if (b < 0)
                throw Truncated();
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw new OnnxFormatException($"a varint longer than 10 bytes at byte {stream.Position}");
    }

    /// <summary>Reads a length prefix and returns where that field ends.</summary>
    public long ReadLengthEnd(long end)
    {
        var length = ReadVarint(end);
        var fieldEnd = stream.Position + (long)Math.Min(length, (ulong)long.MaxValue / 2);
        if (fieldEnd > stream.Length)
            throw Truncated();
        if (fieldEnd > end)
            throw new OnnxFormatException($"a field at byte {stream.Position} runs past the end of its message");
        return fieldEnd;
    }

    public string ReadString(long end)
    {
        var fieldEnd = ReadLengthEnd(end);
        var length = fieldEnd - stream.Position;
        if (length > MaxStringBytes)
            throw new OnnxFormatException($"a name of {length} bytes at byte {stream.Position}");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new OnnxFormatException($"a name that is not UTF-8 at byte {fieldEnd - length}", e);
        }
    }

    /// <summary>Skips the value of a field of <paramref name="wireType"/>.</summary>
    public void Skip(int wireType, long end)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint(end);
                break;
            case LengthDelimited:
                stream.Position = ReadLengthEnd(end);
                break;
            case Fixed64:
                SkipBytes(8, end);
                break;
            case Fixed32:
                SkipBytes(4, end);
                break;
            default:
                throw new OnnxFormatException($"protobuf wire type {wireType} at byte {stream.Position}");
        }
    }

    /// <summary>Throws unless the field just read has the wire type ONNX gives it.</summary>
    public void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected)
            throw new OnnxFormatException($"{field} has wire type {wireType}, not {expected}");
    }

    private void SkipBytes(int count, long end)
    {
        if (stream.Position + count > stream.Length)
            throw Truncated();
        if (stream.Position + count > end)
            throw EndReached(end);
        stream.Position += count;
    }

    private OnnxFormatException EndReached(long end) => end >= stream.Length
        ? Truncated()
        : new OnnxFormatException($"a value at byte {stream.Position} runs past the end of its message");

    private static OnnxFormatException Truncated() => new("the file ends in the middle of a field (truncated?)");
}
