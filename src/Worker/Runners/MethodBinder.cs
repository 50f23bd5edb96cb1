using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Worker.Runners;

/// <summary>A runner type or method that cannot be bound; the message is shown as is.</summary>
internal sealed class RunnerBindingException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Discovers a runner's [RunnerMethod] methods and binds each one, once, into a
/// <see cref="RunnerInvoker"/> (and a batchable one also into a <see cref="BatchInvoker"/>): typed
/// delegates over the method plus an input decoder and an output encoder chosen for its types, so a
/// call does no reflection.
/// </summary>
/// <remarks>
/// Shapes: <c>TOut M(TIn)</c>, <c>TOut M(TIn, CancellationToken)</c>, and the same returning
/// <c>Task&lt;TOut&gt;</c> or <c>ValueTask&lt;TOut&gt;</c>. TIn/TOut: <c>byte[]</c>,
/// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>string</c> (UTF-8), or anything else as JSON through the
/// runner's <see cref="Runner.JsonOptions"/> (<see cref="PayloadCodecs"/>). JSON input that does not fit raises
/// <see cref="RunnerInputException"/> with a message naming the JSON path and the expected shape; input that is
/// not JSON, <see cref="RunnerJsonSyntaxException"/>; a floating-point number out of range is input that does not
/// fit (<see cref="FiniteNumbers"/>). A result that cannot be encoded raises <see cref="RunnerResultException"/>.
/// A batchable method (<c>[RunnerMethod(Batchable = true)]</c>) takes <c>IReadOnlyList&lt;TIn&gt;</c>,
/// <c>IList&lt;TIn&gt;</c>, <c>List&lt;TIn&gt;</c> or <c>TIn[]</c> and returns any of those of TOut (or another
/// <c>IReadOnlyList&lt;TOut&gt;</c>), in the same three shapes; its elements are decoded and encoded as
/// above, one by one (<see cref="BatchMethod{TIn, TOut}"/>).
/// Method names are matched case-insensitively.
/// </remarks>
internal static class MethodBinder
{
    private enum Shape { Sync, Task, ValueTask }

    /// <summary>What a batchable method's list parameter is given: an array, or a <c>List&lt;T&gt;</c> (for IList and List).</summary>
    private enum ListKind { Array, List }

    /// <summary>The bounds of <see cref="RunnerMethodAttribute.MaxBatchSize"/> (also those of a manifest's override).</summary>
    public const int MaxBatchSizeLimit = 4096;

    /// <summary>The bound of <see cref="RunnerMethodAttribute.MaxLatencyMs"/> (also that of a manifest's override).</summary>
    public const int MaxLatencyMsLimit = 60_000;

    private static readonly MethodInfo BuildMethod =
        typeof(MethodBinder).GetMethod(nameof(Build), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly MethodInfo BuildBatchMethod =
        typeof(MethodBinder).GetMethod(nameof(BuildBatch), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Binds every [RunnerMethod] of <paramref name="runner"/>; throws <see cref="RunnerBindingException"/>.</summary>
    /// <param name="runnerName">The runner's name in the manifest (messages name it); its type's name when omitted.</param>
    public static FrozenDictionary<string, BoundMethod> BindAll(Runner runner, string? runnerName = null)
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
            var bound = Bind(runner, m, name, options, runnerName);
            if (!methods.TryAdd(name, bound))
                throw new RunnerBindingException($"{type.FullName}: two [RunnerMethod] methods are named '{name}' ({methods[name].Method.Name} and {m.Name}; names are case-insensitive)");
        }

        return methods.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Binds one method of <paramref name="runner"/>; throws <see cref="RunnerBindingException"/>.</summary>
    public static BoundMethod Bind(Runner runner, MethodInfo method, string name, JsonSerializerOptions options, string? runnerName = null)
    {
        var where = $"{runner.GetType().FullName}.{method.Name}";
        runnerName ??= runner.GetType().Name;
        if (method.IsStatic || !method.IsPublic)
            throw new RunnerBindingException($"{where}: a [RunnerMethod] must be a public instance method");
        if (method.IsGenericMethodDefinition)
            throw new RunnerBindingException($"{where}: a [RunnerMethod] cannot be generic");
        var attribute = method.GetCustomAttribute<RunnerMethodAttribute>(inherit: true);
        var batchable = attribute is { Batchable: true };

        var parameters = method.GetParameters();
        var hasToken = parameters.Length == 2 && parameters[1].ParameterType == typeof(CancellationToken);
        if (parameters.Length is 0 or > 2 || (parameters.Length == 2 && !hasToken))
        {
            throw new RunnerBindingException(batchable
                ? $"{where}: a batchable [RunnerMethod] takes (inputs) or (inputs, CancellationToken)"
                : $"{where}: a [RunnerMethod] takes (input) or (input, CancellationToken)");
        }
        var inputType = parameters[0].ParameterType;
        if (inputType.IsByRef || parameters[0].IsOut || inputType.IsPointer || inputType.IsByRefLike || inputType == typeof(CancellationToken) || inputType.ContainsGenericParameters)
        {
            throw new RunnerBindingException(batchable
                ? $"{where}: unsupported input type {inputType.Name} ({BatchInputs})"
                : $"{where}: unsupported input type {inputType.Name} (byte[], ReadOnlyMemory<byte>, string or a JSON type)");
        }

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
            throw new RunnerBindingException(batchable
                ? $"{where}: a batchable [RunnerMethod] must return its outputs ({BatchOutputs})"
                : $"{where}: a [RunnerMethod] must return a value (TOut, Task<TOut> or ValueTask<TOut>)");
        }
        else
        {
            shape = Shape.Sync;
            outputType = returnType;
        }
        if (outputType.IsByRef || outputType.IsPointer || outputType.IsByRefLike || outputType.ContainsGenericParameters)
            throw new RunnerBindingException($"{where}: unsupported output type {outputType.Name} (byte[], ReadOnlyMemory<byte>, string or a JSON type)");

        if (batchable)
            return BindBatch(runner, method, name, options, runnerName, attribute!, shape, hasToken, inputType, outputType, where);

        var invoker = (RunnerInvoker)Construct(BuildMethod.MakeGenericMethod(inputType, outputType),
            [runner, method, shape, hasToken, options, where], where);
        return new BoundMethod(runnerName, name, method, inputType, outputType, invoker);
    }

    private const string BatchInputs = "a batchable method takes IReadOnlyList<T>, IList<T>, List<T> or T[] of byte[], ReadOnlyMemory<byte>, string or a JSON type";
    private const string BatchOutputs = "IReadOnlyList<T>, IList<T>, List<T>, T[] or another IReadOnlyList<T>, or a Task or ValueTask of one";

    private static BoundMethod BindBatch(Runner runner, MethodInfo method, string name, JsonSerializerOptions options, string runnerName,
        RunnerMethodAttribute attribute, Shape shape, bool hasToken, Type inputListType, Type outputListType, string where)
    {
        if (attribute.MaxBatchSize is < 1 or > MaxBatchSizeLimit)
            throw new RunnerBindingException($"{where}: MaxBatchSize must be between 1 and {MaxBatchSizeLimit}; got {attribute.MaxBatchSize}");
        if (attribute.MaxLatencyMs is < 0 or > MaxLatencyMsLimit)
            throw new RunnerBindingException($"{where}: MaxLatencyMs must be between 0 and {MaxLatencyMsLimit}; got {attribute.MaxLatencyMs}");

        if (!TryInputList(inputListType, out var inputType, out var listKind) || !IsItemType(inputType))
            throw new RunnerBindingException($"{where}: unsupported input type {inputListType.Name} ({BatchInputs})");
        if (!TryOutputList(outputListType, out var outputType) || !IsItemType(outputType))
            throw new RunnerBindingException($"{where}: unsupported output type {outputListType.Name} (a batchable method returns {BatchOutputs}, of byte[], ReadOnlyMemory<byte>, string or a JSON type)");

        return (BoundMethod)Construct(BuildBatchMethod.MakeGenericMethod(inputType, outputType, inputListType, outputListType),
            [runner, method, shape, hasToken, listKind, options, where, runnerName, name, attribute], where);
    }

    /// <summary>Calls a generic builder, unwrapping what it throws.</summary>
    private static object Construct(MethodInfo builder, object?[] arguments, string where)
    {
        try
        {
            return builder.Invoke(null, arguments)!;
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
    }

    /// <summary>IReadOnlyList&lt;T&gt; and T[] are given an array; IList&lt;T&gt; and List&lt;T&gt; a List&lt;T&gt;.</summary>
    private static bool TryInputList(Type type, out Type element, out ListKind kind)
    {
        element = typeof(void);
        kind = ListKind.Array;
        if (type.IsSZArray)
        {
            element = type.GetElementType()!;
            return true;
        }
        if (!type.IsGenericType)
            return false;
        var definition = type.GetGenericTypeDefinition();
        element = type.GetGenericArguments()[0];
        if (definition == typeof(IReadOnlyList<>))
            return true;
        kind = ListKind.List;
        return definition == typeof(IList<>) || definition == typeof(List<>);
    }

    /// <summary>T[], IReadOnlyList&lt;T&gt;, IList&lt;T&gt;, List&lt;T&gt;, or a type implementing one IReadOnlyList&lt;T&gt;.</summary>
    private static bool TryOutputList(Type type, out Type element)
    {
        if (TryInputList(type, out element, out _))
            return true;
        Type? found = null;
        foreach (var implemented in type.GetInterfaces())
        {
            if (!implemented.IsGenericType || implemented.GetGenericTypeDefinition() != typeof(IReadOnlyList<>))
                continue;
            if (found is not null)
                return false;
            found = implemented.GetGenericArguments()[0];
        }
        element = found ?? typeof(void);
        return found is not null && type != typeof(string);
    }

    /// <summary>An element a batch can carry; <c>byte</c> is refused (a <c>byte[]</c> would be a batch of single bytes).</summary>
    private static bool IsItemType(Type type) =>
        type != typeof(byte) && type != typeof(void) && type != typeof(CancellationToken)
        && !type.IsByRef && !type.IsPointer && !type.IsByRefLike && !type.ContainsGenericParameters;

    private static BoundMethod BuildBatch<TIn, TOut, TInList, TOutList>(Runner target, MethodInfo method, Shape shape, bool hasToken, ListKind listKind,
        JsonSerializerOptions options, string where, string runnerName, string name, RunnerMethodAttribute attribute)
    {
        var decode = PayloadCodecs.Decoder<TIn>(options, where);
        var encode = PayloadCodecs.Encoder<TOut>(options, where);
        Func<TIn[], TInList> list = listKind == ListKind.Array
            ? static values => (TInList)(object)values
            : static values => (TInList)(object)new List<TIn>(values);
        Func<TIn[], CancellationToken, ValueTask<IReadOnlyList<TOut>?>> call;
        switch (shape, hasToken)
        {
            case (Shape.Sync, false):
            {
                var f = method.CreateDelegate<Func<TInList, TOutList>>(target);
                call = (values, _) => new ValueTask<IReadOnlyList<TOut>?>(AsList<TOut, TOutList>(f(list(values))));
                break;
            }
            case (Shape.Sync, true):
            {
                var f = method.CreateDelegate<Func<TInList, CancellationToken, TOutList>>(target);
                call = (values, ct) => new ValueTask<IReadOnlyList<TOut>?>(AsList<TOut, TOutList>(f(list(values), ct)));
                break;
            }
            case (Shape.Task, false):
            {
                var f = method.CreateDelegate<Func<TInList, Task<TOutList>>>(target);
                call = (values, _) => FromTask(f(list(values)), AsList<TOut, TOutList>);
                break;
            }
            case (Shape.Task, true):
            {
                var f = method.CreateDelegate<Func<TInList, CancellationToken, Task<TOutList>>>(target);
                call = (values, ct) => FromTask(f(list(values), ct), AsList<TOut, TOutList>);
                break;
            }
            case (Shape.ValueTask, false):
            {
                var f = method.CreateDelegate<Func<TInList, ValueTask<TOutList>>>(target);
                call = (values, _) => FromValueTask(f(list(values)), AsList<TOut, TOutList>);
                break;
            }
            default:
            {
                var f = method.CreateDelegate<Func<TInList, CancellationToken, ValueTask<TOutList>>>(target);
                call = (values, ct) => FromValueTask(f(list(values), ct), AsList<TOut, TOutList>);
                break;
            }
        }
        var splitsInstances = !PayloadCodecs.IsRaw(typeof(TIn)) && !PayloadCodecs.IsRaw(typeof(TOut));
        var batch = new BatchMethod<TIn, TOut>(runnerName, name, attribute.MaxBatchSize, splitsInstances, decode, encode, call);
        return new BoundMethod(runnerName, name, method, typeof(TIn), typeof(TOut), batch.Invoke, batch.InvokeBatch,
            attribute.MaxBatchSize, TimeSpan.FromMilliseconds(attribute.MaxLatencyMs), splitsInstances);
    }

    /// <summary>A method's result list as an IReadOnlyList (an IList that is not one is wrapped, not copied).</summary>
    private static IReadOnlyList<TOut>? AsList<TOut, TOutList>(TOutList result) => result switch
    {
        null => null,
        IReadOnlyList<TOut> list => list,
        IList<TOut> list => new System.Collections.ObjectModel.ReadOnlyCollection<TOut>(list),
        _ => null,
    };

    private static RunnerInvoker Build<TIn, TOut>(Runner target, MethodInfo method, Shape shape, bool hasToken, JsonSerializerOptions options, string where)
    {
        var decode = PayloadCodecs.Decoder<TIn>(options, where);
        var encode = PayloadCodecs.Encoder<TOut>(options, where);
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

    private static ValueTask<TResult> FromTask<T, TResult>(Task<T> task, Func<T, TResult> encode) =>
        task.IsCompletedSuccessfully ? new ValueTask<TResult>(encode(task.Result)) : AwaitTask(task, encode);

    private static async ValueTask<TResult> AwaitTask<T, TResult>(Task<T> task, Func<T, TResult> encode) =>
        encode(await task.ConfigureAwait(false));

    private static ValueTask<TResult> FromValueTask<T, TResult>(ValueTask<T> task, Func<T, TResult> encode) =>
        task.IsCompletedSuccessfully ? new ValueTask<TResult>(encode(task.Result)) : AwaitValueTask(task, encode);

    private static async ValueTask<TResult> AwaitValueTask<T, TResult>(ValueTask<T> task, Func<T, TResult> encode) =>
        encode(await task.ConfigureAwait(false));
}
