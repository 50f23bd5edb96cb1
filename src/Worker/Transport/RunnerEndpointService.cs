using System.Collections.Frozen;
using System.Text;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Runners;

using Serving.Worker.Metrics;

namespace Serving.Worker.Transport;

/// <summary>
/// What every connection of a runner worker shares: the runner and its call targets (one per method,
/// and per API that overrides its batch settings), the frame limit, the secret of a Tcp endpoint,
/// and whether the worker is still serving (a draining worker answers Ping "not serving").
/// </summary>
internal sealed class RunnerEndpointService
{
    private readonly FrozenDictionary<string, CallTarget> _byMethod;
    private readonly CallTarget?[] _byApi;
    private volatile bool _draining;
    private long _calls;

    public RunnerEndpointService(LoadedRunner runner, HostConfig config, string workerName, string? requiredSecret, ILogger log, ILogger batchLog,
        BatchMetrics? batchMetrics = null)
    {
        Runner = runner;
        WorkerName = workerName;
        Log = log;
        MaxPayload = RunnerLimits.MaxFramePayload(config);
        MaxOutput = config.MaxMessageBytes;
        Tuning = config.Tuning;
        RequiredSecret = requiredSecret is null ? null : Encoding.UTF8.GetBytes(requiredSecret);

        // A batchable method gets a dispatcher; batching off (a batch of at most one) means direct
        // calls, which may overlap, rather than a queue served one call at a time.
        CallTarget CreateTarget(BoundMethod method, ApiConfig? api) =>
            method.Batchable && BatchingOptions.For(method, api, queueBatches: Tuning.BatchQueueBatches) is { MaxBatchSize: > 1 } options
                ? new BatchCallTarget(runner.Name, method, options, batchLog, batchMetrics)
                : new DirectCallTarget(runner.Name, method);

        var byMethod = new Dictionary<string, CallTarget>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, method) in runner.Methods)
            byMethod[name] = CreateTarget(method, null);
        _byMethod = byMethod.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

        var apis = config.Service!.Apis!;
        _byApi = new CallTarget?[apis.Count];
        for (var i = 0; i < apis.Count; i++)
        {
            var api = apis[i];
            if (!string.Equals(api.Runner, runner.Name, StringComparison.Ordinal) || !runner.Methods.TryGetValue(api.Method, out var method))
                continue;
            var target = HasOverrides(api) ? CreateTarget(method, api) : _byMethod[api.Method];
            _byApi[i] = JsonInputGate.Applies(api.InputKind, method) ? new JsonCheckedTarget(target) : target;
        }
        // Statistics and drains are the real targets' (a JSON check in front of one is not another).
        Targets = [.. _byMethod.Values.Concat(_byApi.OfType<CallTarget>().Select(t => t is JsonCheckedTarget c ? c.Inner : t)).Distinct()];
    }

    public LoadedRunner Runner { get; }
    public string WorkerName { get; }
    public ILogger Log { get; }

    /// <summary>The largest frame payload accepted or sent (maxMessageBytes, else the body limit plus room for the call's header).</summary>
    public long MaxPayload { get; }

    /// <summary>The largest output a reply may carry (maxMessageBytes), else null.</summary>
    public long? MaxOutput { get; }

    /// <summary>The workers' tunables (host.json <c>tuning</c>).</summary>
    public WorkerTuning Tuning { get; }

    /// <summary>The secret a Hello must carry (Tcp endpoints), else null.</summary>
    public byte[]? RequiredSecret { get; }

    /// <summary>Every distinct call target (for statistics and the drain).</summary>
    public IReadOnlyList<CallTarget> Targets { get; }

    public bool Serving => !_draining;

    /// <summary>Calls received since the worker started.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public void CountCall() => Interlocked.Increment(ref _calls);

    public void BeginDrain() => _draining = true;

    /// <summary>The target of a call: its API's when the index names an API of this runner, else its method's.</summary>
    public CallTarget? Find(short apiIndex, in System.Buffers.ReadOnlySequence<byte> methodUtf8)
    {
        if ((uint)apiIndex < (uint)_byApi.Length && _byApi[apiIndex] is { } target)
            return target;
        var name = Encoding.UTF8.GetString(methodUtf8);
        return _byMethod.GetValueOrDefault(name);
    }

    private static bool HasOverrides(ApiConfig api) => api.MaxBatchSize is not null || api.MaxLatencyMs is not null;
}
