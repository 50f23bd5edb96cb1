using System.Collections.Frozen;
using System.Reflection;
using Serving.Abstractions;
using Serving.Worker.Hosting;

namespace Serving.Worker.Runners;

/// <summary>The service failed to load (exit code 3); the message is one clear line.</summary>
internal sealed class ServiceLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A runner instance with its methods bound.</summary>
internal sealed class LoadedRunner(string name, Runner instance, FrozenDictionary<string, BoundMethod> methods)
{
    public string Name { get; } = name;
    public Runner Instance { get; } = instance;
    public FrozenDictionary<string, BoundMethod> Methods { get; } = methods;

    /// <summary>Loads the service's assemblies into one <see cref="ServiceLoadContext"/>.</summary>
    public static Assembly[] LoadAssemblies(HostConfig config)
    {
        var service = config.Service!;
        if (service.Assemblies!.Count == 0)
        {
            // A service of ONNX runners only has no code to load.
            if (service.Runners!.TrueForAll(r => r.IsOnnx))
                return [];
            throw new ServiceLoadException("host.json lists no service assemblies");
        }
        var context = new ServiceLoadContext(service.Name ?? config.HostName ?? "service");
        var assemblies = new Assembly[service.Assemblies.Count];
        for (var i = 0; i < assemblies.Length; i++)
        {
            var path = service.Assemblies[i];
            if (!Path.IsPathRooted(path) && config.ServiceDirectory is { Length: > 0 } dir)
                path = Path.Combine(dir, path);
            path = Path.GetFullPath(path);
            if (!File.Exists(path))
                throw new ServiceLoadException($"service assembly '{path}' does not exist");
            try
            {
                assemblies[i] = context.LoadServiceAssembly(path);
            }
            catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or FileNotFoundException)
            {
                throw new ServiceLoadException($"cannot load service assembly '{path}': {ex.Message}", ex);
            }
        }
        return assemblies;
    }

    /// <summary>Finds, creates and binds the runner <paramref name="config"/> names.</summary>
    public static LoadedRunner Create(RunnerConfig config, Assembly[] assemblies)
    {
        if (config.IsOnnx)
        {
            var model = Onnx.OnnxModelRunner.Load(config.Name, config.Onnx!, config.IntraOpThreads);
            return new LoadedRunner(config.Name, model, model.Bind(config.Name));
        }
        if (string.IsNullOrWhiteSpace(config.Type))
            throw new ServiceLoadException($"runner '{config.Name}' has no 'type' in host.json");

        Type? type = null;
        foreach (var assembly in assemblies)
        {
            try
            {
                type = assembly.GetType(config.Type, throwOnError: false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or TypeLoadException)
            {
                throw new ServiceLoadException($"runner '{config.Name}': cannot load type '{config.Type}': {ex.Message}", ex);
            }
            if (type is not null)
                break;
        }
        if (type is null)
        {
            var names = string.Join(", ", Array.ConvertAll(assemblies, a => a.GetName().Name));
            throw new ServiceLoadException($"runner '{config.Name}': type '{config.Type}' was not found in {names}");
        }
        if (!typeof(Runner).IsAssignableFrom(type))
        {
            var otherCopy = false;
            for (var t = type.BaseType; t is not null; t = t.BaseType)
                otherCopy |= t.FullName == typeof(Runner).FullName;
            throw new ServiceLoadException(otherCopy
                ? $"runner '{config.Name}': type '{config.Type}' derives from a different copy of Serving.Abstractions than the worker's"
                : $"runner '{config.Name}': type '{config.Type}' does not derive from Serving.Abstractions.Runner");
        }
        if (type.IsAbstract || type.ContainsGenericParameters || type.GetConstructor(Type.EmptyTypes) is null)
            throw new ServiceLoadException($"runner '{config.Name}': type '{config.Type}' needs a public parameterless constructor and must not be abstract or generic");

        Runner instance;
        try
        {
            instance = (Runner)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } inner)
        {
            throw new ServiceLoadException($"runner '{config.Name}': the constructor of '{config.Type}' threw {inner.GetType().Name}: {inner.Message}", inner);
        }

        FrozenDictionary<string, BoundMethod> methods;
        try
        {
            methods = MethodBinder.BindAll(instance, config.Name);
        }
        catch (RunnerBindingException ex)
        {
            throw new ServiceLoadException($"runner '{config.Name}': {ex.Message}", ex.InnerException);
        }
        if (methods.Count == 0)
            throw new ServiceLoadException($"runner '{config.Name}': type '{config.Type}' has no [RunnerMethod] methods");
        return new LoadedRunner(config.Name, instance, methods);
    }

    /// <summary>Calls <see cref="Runner.InitializeAsync"/>; failures become <see cref="ServiceLoadException"/>.</summary>
    public async Task InitializeAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        try
        {
            await Instance.InitializeAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new ServiceLoadException($"runner '{Name}': InitializeAsync threw {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Checks that every API of this runner names a method it has, and that an API setting
    /// maxBatchSize or maxLatencyMs (the manifest's batching override) names a batchable one.
    /// </summary>
    public void CheckApis(HostConfig config)
    {
        foreach (var api in config.Service!.Apis!)
        {
            if (!string.Equals(api.Runner, Name, StringComparison.Ordinal))
                continue;
            if (!Methods.TryGetValue(api.Method, out var method))
                throw new ServiceLoadException($"runner '{Name}' has no method '{api.Method}' (API '{api.Route}'); it has: {string.Join(", ", Methods.Keys)}");
            if (!method.Batchable && (api.MaxBatchSize is not null || api.MaxLatencyMs is not null))
            {
                var keys = api.MaxBatchSize is not null && api.MaxLatencyMs is not null ? "MaxBatchSize and MaxLatencyMs"
                    : api.MaxBatchSize is not null ? "MaxBatchSize" : "MaxLatencyMs";
                throw new ServiceLoadException(Instance is Onnx.OnnxModelRunner
                    ? $"API '{api.Route}' sets {keys}, but the ONNX model of runner '{Name}' has no dynamic first axis on every input and output, so it is not batched; remove the setting from the manifest"
                    : $"API '{api.Route}' sets {keys}, but method '{method.Name}' of runner '{Name}' is not batchable; " +
                    "mark it [RunnerMethod(Batchable = true)] (taking and returning lists) or remove the setting from the manifest");
            }
        }
    }

    public async ValueTask DisposeRunnerAsync(TimeSpan timeout, Microsoft.Extensions.Logging.ILogger log)
    {
        try
        {
            await Instance.DisposeAsync().AsTask().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(log, "runner '{Runner}': DisposeAsync did not finish within {Seconds} s", Name, timeout.TotalSeconds);
        }
        catch (Exception ex)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(log, ex, "runner '{Runner}': DisposeAsync threw", Name);
        }
    }
}
