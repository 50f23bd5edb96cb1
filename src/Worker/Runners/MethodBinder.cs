using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Serving.Abstractions;
using Serving.Worker.Errors;

namespace Serving.Worker.Runners;

/// <summary>
/// Invokes one runner method on one encoded payload and returns the encoded result.
/// When <paramref name="input"/> spans a whole array, a <c>byte[]</c> method receives that array
/// itself (no copy): callers pass memory they give up.
/// </summary>
internal delegate ValueTask<ReadOnlyMemory<byte>> RunnerInvoker(ReadOnlyMemory<byte> input, CancellationToken cancellationToken);

/// <summary>A [RunnerMethod] bound once at startup.</summary>
internal sealed class BoundMethod(string name, MethodInfo method, Type inputType, Type outputType, RunnerInvoker invoke)
{
    public string Name { get; } = name;
    public MethodInfo Method { get; } = method;
    public Type InputType { get; } = inputType;
    public Type OutputType { get; } = outputType;
    public RunnerInvoker Invoke { get; } = invoke;
}

/// <summary>A runner type or method that cannot be bound; the message is shown as is.</summary>
internal sealed class RunnerBindingException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Discovers a runner's [RunnerMethod] methods and binds each one, once, into a
/// <see cref="RunnerInvoker"/>: typed delegates over the method plus an input decoder and an
/// output encoder chosen for its types, so a call does no reflection.
/// </summary>
/// <remarks>
/// Shapes: <c>TOut M(TIn)</c>, <c>TOut M(TIn, CancellationToken)</c>, and the same returning
/// <c>Task&lt;TOut&gt;</c> or <c>ValueTask&lt;TOut&gt;</c>. TIn/TOut: <c>byte[]</c>,
/// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>string</c> (UTF-8), or anything else as JSON through the
/// runner's <see cref="Runner.JsonOptions"/>. JSON input that does not fit raises <see cref="RunnerInputException"/>
/// with a message naming the JSON path and the expected shape (<see cref="JsonInputErrors"/>); a floating-point
/// number out of range is such input (<see cref="FiniteNumbers"/>). A result that cannot be encoded raises
/// <see cref="RunnerResultException"/>.
/// Method names are matched case-insensitively.
/// </remarks>
internal static class MethodBinder
{
    private enum Shape { Sync, Task, ValueTask }

    private static readonly MethodInfo BuildMethod =
        typeof(MethodBinder).GetMethod(nameof(Build), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Binds every [RunnerMethod] of <paramref name="runner"/>; throws <see cref="RunnerBindingException"/>.</summary>
    public static FrozenDictionary<string, BoundMethod> BindAll(Runner runner)
    {
        var type = runner.GetType();
        JsonSerializerOptions options;
        try
        {
            options = runner.JsonOptions ?? throw new RunnerBindingException($"{type.FullName}.JsonOptions returned null");
        }
        catch (Exception ex) when (ex is not RunnerBindingException)
        {
            throw new RunnerBindingException($"{type.FullName}.JsonOptions threw {ex.GetType().Name}: {ex.Message}", ex);
        }

        // Marked methods that cannot be called are an error, not silently skipped.
        foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy))
        {
            if ((!m.IsPublic || m.IsStatic) && m.GetCustomAttribute<RunnerMethodAttribute>(inherit: true) is not null)
                throw new RunnerBindingException($"{type.FullName}.{m.Name}: a [RunnerMethod] must be a public instance method");
        }

        var methods = new Dictionary<string, BoundMethod>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            var attribute = m.GetCustomAttribute<RunnerMethodAttribute>(inherit: true);
            if (attribute is null)
                continue;
            var name = string.IsNullOrWhiteSpace(attribute.Name) ? m.Name : attribute.Name;
            var bound = Bind(runner, m, name, options);
            if (!methods.TryAdd(name, bound))
                throw new RunnerBindingException($"{type.FullName}: two [RunnerMethod] methods are named '{name}' ({methods[name].Method.Name} and {m.Name}; names are case-insensitive)");
        }

        return methods.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Binds one method of <paramref name="runner"/>; throws <see cref="RunnerBindingException"/>.</summary>
    public static BoundMethod Bind(Runner runner, MethodInfo method, string name, JsonSerializerOptions options)
    {
        var where = $"{runner.GetType().FullName}.{method.Name}";
        if (method.IsStatic || !method.IsPublic)
            throw new RunnerBindingException($"{where}: a [RunnerMethod] must be a public instance method");
        if (method.IsGenericMethodDefinition)
            throw new RunnerBindingException($"{where}: a [RunnerMethod] cannot be generic");

        var parameters = method.GetParameters();
        var hasToken = parameters.Length == 2 && parameters[1].ParameterType == typeof(CancellationToken);
        if (parameters.Length is 0 or > 2 || (parameters.Length == 2 && !hasToken))
            throw new RunnerBindingException($"{where}: a [RunnerMethod] takes (input) or (input, CancellationToken)");
        var inputType = parameters[0].ParameterType;
        if (inputType.IsByRef || parameters[0].IsOut || inputType.IsPointer || inputType.IsByRefLike || inputType == typeof(CancellationToken) || inputType.ContainsGenericParameters)
            throw new RunnerBindingException($"{where}: unsupported input type {inputType.Name} (byte[], ReadOnlyMemory<byte>, string or a JSON type)");

        var returnType = method.ReturnType;
        Shape shape;
        Type outputType;
        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            shape = Shape.Task;
            outputType = returnType.GetGenericArguments()[0];
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            shape = Shape.ValueTask;
            outputType = returnType.GetGenericArguments()[0];
        }
        else if (returnType == typeof(void) || typeof(Task).IsAssignableFrom(returnType) || returnType == typeof(ValueTask))
        {
            throw new RunnerBindingException($"{where}: a [RunnerMethod] must return a value (TOut, Task<TOut> or ValueTask<TOut>)");
        }
        else
        {
            shape = Shape.Sync;
            outputType = returnType;
        }
        if (outputType.IsByRef || outputType.IsPointer || outputType.IsByRefLike || outputType.ContainsGenericParameters)
            throw new RunnerBindingException($"{where}: unsupported output type {outputType.Name} (byte[], ReadOnlyMemory<byte>, string or a JSON type)");

        RunnerInvoker invoker;
        try
        {
            invoker = (RunnerInvoker)BuildMethod.MakeGenericMethod(inputType, outputType)
                .Invoke(null, [runner, method, shape, hasToken, options, where])!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is RunnerBindingException)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw new RunnerBindingException($"{where}: cannot bind: {ex.InnerException.GetType().Name}: {ex.InnerException.Message}", ex.InnerException);
        }
        return new BoundMethod(name, method, inputType, outputType, invoker);
    }

    private static RunnerInvoker Build<TIn, TOut>(Runner target, MethodInfo method, Shape shape, bool hasToken, JsonSerializerOptions options, string where)
    {
        var decode = Decoder<TIn>(options, where);
        var encode = Encoder<TOut>(options, where);
        switch (shape, hasToken)
        {
            case (Shape.Sync, false):
            {
                var f = method.CreateDelegate<Func<TIn, TOut>>(target);
                return (input, _) => new ValueTask<ReadOnlyMemory<byte>>(encode(f(decode(input))));
            }
            case (Shape.Sync, true):
            {
                var f = method.CreateDelegate<Func<TIn, CancellationToken, TOut>>(target);
                return (input, ct) => new ValueTask<ReadOnlyMemory<byte>>(encode(f(decode(input), ct)));
            }
            case (Shape.Task, false):
            {
                var f = method.CreateDelegate<Func<TIn, Task<TOut>>>(target);
                return (input, _) => FromTask(f(decode(input)), encode);
            }
            case (Shape.Task, true):
            {
                var f = method.CreateDelegate<Func<TIn, CancellationToken, Task<TOut>>>(target);
                return (input, ct) => FromTask(f(decode(input), ct), encode);
            }
            case (Shape.ValueTask, false):
            {
                var f = method.CreateDelegate<Func<TIn, ValueTask<TOut>>>(target);
                return (input, _) => FromValueTask(f(decode(input)), encode);
            }
            default:
            {
                var f = method.CreateDelegate<Func<TIn, CancellationToken, ValueTask<TOut>>>(target);
                return (input, ct) => FromValueTask(f(decode(input), ct), encode);
            }
        }
    }

    private static ValueTask<ReadOnlyMemory<byte>> FromTask<T>(Task<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
        task.IsCompletedSuccessfully ? new ValueTask<ReadOnlyMemory<byte>>(encode(task.Result)) : AwaitTask(task, encode);

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitTask<T>(Task<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
        encode(await task.ConfigureAwait(false));

    private static ValueTask<ReadOnlyMemory<byte>> FromValueTask<T>(ValueTask<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
        task.IsCompletedSuccessfully ? new ValueTask<ReadOnlyMemory<byte>>(encode(task.Result)) : AwaitValueTask(task, encode);

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitValueTask<T>(ValueTask<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
        encode(await task.ConfigureAwait(false));

    private static Func<ReadOnlyMemory<byte>, T> Decoder<T>(JsonSerializerOptions options, string where)
    {
        if (typeof(T) == typeof(byte[]))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, byte[]>(DecodeBytes);
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>(static input => input);
        if (typeof(T) == typeof(string))
            return (Func<ReadOnlyMemory<byte>, T>)(object)new Func<ReadOnlyMemory<byte>, string>(static input => Encoding.UTF8.GetString(input.Span));

        var info = JsonInfo<T>(FiniteNumbers.ForInput(ReadOnly(options, where), typeof(T)), where);
        return input =>
        {
            try
            {
                return JsonSerializer.Deserialize(input.Span, info)!;
            }
            catch (JsonException ex)
            {
                // The client's message names the JSON path and the shape expected there, never a .NET type.
                throw new RunnerInputException(JsonInputErrors.Describe(input, ex, info), ex);
            }
        };
    }

    private static Func<T, ReadOnlyMemory<byte>> Encoder<T>(JsonSerializerOptions options, string where)
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
