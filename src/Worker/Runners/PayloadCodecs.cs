using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Serving.Abstractions;
using Serving.Worker.Errors;

namespace Serving.Worker.Runners;

/// <summary>
/// How a runner method's payloads become its arguments and its results become payloads, chosen once
/// per type when it is bound (<see cref="MethodBinder"/>): <c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>
/// and <c>string</c> (UTF-8) as they are; anything else as JSON through the runner's options. The JSON
/// decoder is the only JSON pass a request gets, so it tells a body that is not JSON
/// (<see cref="RunnerJsonSyntaxException"/>) from one of the wrong shape (<see cref="RunnerInputException"/>).
/// </summary>
internal static class PayloadCodecs
{
    /// <summary>Payloads of these types are taken and given as they are; anything else is JSON.</summary>
    public static bool IsRaw(Type type) =>
        type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(string);

    /// <summary>The decoder of one payload into a <typeparamref name="T"/>: raw types as they are, anything else as JSON.</summary>
    public static Func<ReadOnlyMemory<byte>, T> Decoder<T>(JsonSerializerOptions options, string where)
    {
        if (typeof(T) == typeof(byte[]))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, byte[]>(DecodeBytes);
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>(static input => input);
        if (typeof(T) == typeof(string))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, string>(static input => Encoding.UTF8.GetString(input.Span));

        var info = JsonInfo<T>(FiniteNumbers.ForInput(ReadOnly(options, where), typeof(T)), where);
        var maxDepth = info.Options.MaxDepth == 0 ? JsonInputErrors.DefaultMaxDepth : info.Options.MaxDepth;
        var comments = info.Options.ReadCommentHandling;
        var trailingCommas = info.Options.AllowTrailingCommas;
        return input =>
        {
            // The only JSON pass a request gets (the API worker forwards bodies unparsed), so it also
            // refuses what the serializer would let through: bytes that are not UTF-8 in strings it
            // skips. Vectorised; a small fraction of the parse.
            if (!Utf8.IsValid(input.Span))
                throw new RunnerJsonSyntaxException(JsonSyntax.Explain(input.Span, maxDepth, comments, trailingCommas) ?? "is not valid UTF-8");
            try
            {
                return JsonSerializer.Deserialize(input.Span, info)!;
            }
            // Whatever stopped the decoder (the reader, the serializer, a converter of the runner's own
            // throwing RunnerInputException), input that is not one JSON value is InvalidJson, as if it had
            // been checked first. Error path only: the input is read again.
            catch (Exception ex) when (JsonSyntax.Explain(input.Span, int.MaxValue, comments, trailingCommas) is { } syntax)
            {
                throw new RunnerJsonSyntaxException(syntax, ex);
            }
            catch (JsonException ex)
            {
                // A value the reader refused for nesting deeper than the runner's options allow (the exception
                // wraps the reader's) is InvalidJson too. Else the value does not have the method's shape,
                // reported where the serializer stopped (maybe before a depth it would refuse): InvalidInput.
                if (ex.InnerException is JsonException && JsonSyntax.Explain(input.Span, maxDepth, comments, trailingCommas) is { } depth)
                    throw new RunnerJsonSyntaxException(depth, ex);
                // The client's message names the JSON path and the shape expected there, never a .NET type.
                throw new RunnerInputException(JsonInputErrors.Describe(input, ex, info), ex);
            }
        };
    }

    /// <summary>The encoder of one <typeparamref name="T"/> result: raw types as they are, anything else as JSON.</summary>
    public static Func<T, ReadOnlyMemory<byte>> Encoder<T>(JsonSerializerOptions options, string where)
    {
        if (typeof(T) == typeof(byte[]))
            return (Func<T, ReadOnlyMemory<byte>>)(object)new Func<byte[]?, ReadOnlyMemory<byte>>(static output => output);
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
            return (Func<T, ReadOnlyMemory<byte>>)(object)new Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>(static output => output);
        if (typeof(T) == typeof(string))
            return (Func<T, ReadOnlyMemory<byte>>)(object)new Func<string?, ReadOnlyMemory<byte>>(static output => output is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(output));

        var info = JsonInfo<T>(ReadOnly(options, where), where);
        return output =>
        {
            try
            {
                return JsonSerializer.SerializeToUtf8Bytes(output, info);
            }
            catch (Exception ex)
            {
                // NaN or Infinity in a number, a cycle, a type the options cannot write: the runner's failure.
                throw new RunnerResultException("returned a result that cannot be written as JSON", ex);
            }
        };
    }

    /// <summary>Options without a resolver use reflection-based metadata (locking them, as any first use does).</summary>
    private static JsonSerializerOptions ReadOnly(JsonSerializerOptions options, string where)
    {
        try
        {
            if (!options.IsReadOnly)
                options.MakeReadOnly(populateMissingResolver: true);
            return options;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new RunnerBindingException($"{where}: the runner's JsonOptions cannot be used: {ex.Message}", ex);
        }
    }

    private static JsonTypeInfo<T> JsonInfo<T>(JsonSerializerOptions options, string where)
    {
        try
        {
            return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new RunnerBindingException($"{where}: the runner's JsonOptions cannot (de)serialise {typeof(T).FullName}: {ex.Message}", ex);
        }
    }

    /// <summary>The input's own array when it spans one whole array, else a copy.</summary>
    private static byte[] DecodeBytes(ReadOnlyMemory<byte> input) =>
        MemoryMarshal.TryGetArray(input, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : input.ToArray();
}
