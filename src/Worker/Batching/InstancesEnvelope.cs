using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Serving.Worker.Errors;

namespace Serving.Worker.Batching;

/// <summary>
/// <c>{"instances":[e0,e1,…]}</c>, the batch request of a JSON API over a batchable method: one item
/// per element, answered with the JSON array of the items' results in order. Only a body that is a
/// JSON object whose one member is <c>instances</c> (exactly that name) holding an array is an envelope;
/// anything else is a single item (so an item type of the method's own that has an <c>instances</c>
/// member next to others is never mistaken for one). Pure; no copy of the elements.
/// </summary>
internal static class InstancesEnvelope
{
    /// <summary>The most elements one request may carry.</summary>
    public const int MaxInstances = ServingDefaults.MaxInstancesPerRequest;

    /// <summary>
    /// Finds the elements of an envelope. False: <paramref name="body"/> is not one (send it as one
    /// item). True: it is; then either <paramref name="invalid"/> is null and <paramref name="instances"/>
    /// holds the elements' JSON texts (slices of <paramref name="body"/>, in order), or
    /// <paramref name="invalid"/> is the message for the client (InvalidInput: no element, more than
    /// <paramref name="maxInstances"/>).
    /// </summary>
    /// <remarks>
    /// Nothing checked the body before (the API worker forwards it unparsed): a body that is not one JSON
    /// value in UTF-8 — a syntax error anywhere, bytes after the object — gives false, and goes to the
    /// method's decoder as one item, whose InvalidJson then says what is wrong with it.
    /// </remarks>
    public static bool TrySplit(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte>[] instances, out string? invalid, int maxInstances = MaxInstances)
    {
        instances = [];
        invalid = null;
        var span = body.Span;
        // Cheap refusal of most bodies that are not envelopes: the first non-blank byte is '{'.
        var first = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0 || span[first] != (byte)'{')
            return false;

        // Element strings are not read here; the elements' decoder reads only the members it knows.
        if (!Utf8.IsValid(span))
            return false;
        var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = JsonSyntax.MaxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("instances"u8))
                return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                return false;

            var found = new List<ReadOnlyMemory<byte>>();
            var count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    reader.Skip();
                count++;
                // Past the limit only counted, for the message.
                if (count <= maxInstances)
                    found.Add(body[start..(int)reader.BytesConsumed]);
            }
            // One member only: anything after the array makes the body an item of its own; and so
            // does anything after the object (the reader throws on it).
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return false;

            if (count == 0)
                invalid = "invalid input in $.instances: expected one instance or more, got an empty array";
            else if (count > maxInstances)
                invalid = string.Create(CultureInfo.InvariantCulture, $"invalid input in $.instances: expected {maxInstances} instances or fewer per request, got {count}");
            else
                instances = [.. found];
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// An item's InvalidInput message as the envelope's: the item's root <c>$</c> becomes
    /// <c>$.instances[k]</c> (<c>invalid input in $.features[0]: …</c> →
    /// <c>invalid input in $.instances[3].features[0]: …</c>); a message of another form is prefixed
    /// with <c>invalid input in $.instances[k]: </c>.
    /// </summary>
    public static string AtInstance(string message, int index)
    {
        const string Prefix = "invalid input in $";
        var at = string.Create(CultureInfo.InvariantCulture, $"invalid input in $.instances[{index}]");
        if (message.StartsWith(Prefix, StringComparison.Ordinal)
            && (message.Length == Prefix.Length || message[Prefix.Length] is '.' or '[' or ':' or ' '))
            return string.Concat(at, message.AsSpan(Prefix.Length));
        const string Bare = "invalid input: ";
        if (message.StartsWith(Bare, StringComparison.Ordinal))
            return string.Concat(at, ": ", message.AsSpan(Bare.Length));
        return string.Concat(at, ": ", message);
    }

    /// <summary>The bytes <see cref="Join(ReadOnlySpan{ReadOnlyMemory{byte}}, Span{byte})"/> writes.</summary>
    public static int JoinedLength(ReadOnlySpan<ReadOnlyMemory<byte>> outputs)
    {
        var length = 2 + Math.Max(0, outputs.Length - 1);
        foreach (var output in outputs)
            length += output.Length;
        return length;
    }

    /// <summary>
    /// The answer to an envelope: <c>[o0,o1,…]</c>, each output's JSON text as the runner encoded it.
    /// <paramref name="destination"/> holds at least <see cref="JoinedLength"/> bytes; returns the bytes written.
    /// </summary>
    public static int Join(ReadOnlySpan<ReadOnlyMemory<byte>> outputs, Span<byte> destination)
    {
        destination[0] = (byte)'[';
        var at = 1;
        for (var i = 0; i < outputs.Length; i++)
        {
            if (i > 0)
                destination[at++] = (byte)',';
            outputs[i].Span.CopyTo(destination[at..]);
            at += outputs[i].Length;
        }
        destination[at++] = (byte)']';
        return at;
    }

    /// <summary>The answer to an envelope in a new array.</summary>
    public static byte[] Join(ReadOnlySpan<ReadOnlyMemory<byte>> outputs)
    {
        var joined = new byte[JoinedLength(outputs)];
        Join(outputs, joined);
        return joined;
    }

    /// <summary>The answer to an envelope, written to <paramref name="writer"/>.</summary>
    public static void Join(ReadOnlySpan<ReadOnlyMemory<byte>> outputs, IBufferWriter<byte> writer)
    {
        var length = JoinedLength(outputs);
        var written = Join(outputs, writer.GetSpan(length));
        writer.Advance(written);
    }
}
