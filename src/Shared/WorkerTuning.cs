namespace Serving.Shared;

/// <summary>
/// The workers' tunables, each default written here, once, with its reason (Kestrel's options style).
/// The supervisor writes every value into host.json (<c>"tuning"</c>); a worker reads them back, and a
/// host.json without them gets these same defaults. Defaults suit a host of a few workers on a small
/// machine; nothing a service author needs to touch, and nothing a test has to wait out.
/// One file, linked into the supervisor (Serving.Runtime) and the worker (Serving.Worker).
/// </summary>
internal sealed class WorkerTuning
{
    /// <summary>
    /// How long an API worker waits for a runner connection to be accepted and welcomed, in ms (5 s):
    /// a runner worker that is starting answers in well under a second; past this, calls get 503.
    /// </summary>
    public int RunnerConnectTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// How often an API worker answers runner calls whose deadline passed, in ms (50): one sweep for all
    /// calls instead of a timer each; a deadline is kept to within this.
    /// </summary>
    public int DeadlineSweepMs { get; set; } = 50;

    /// <summary>
    /// Connections an API worker opens per worker of a runner that has several (2): the kernel gives each
    /// new connection to one of them, so two per worker spreads the load even when the hand-out is uneven.
    /// A runner with one worker gets one connection (calls are multiplexed on it).
    /// </summary>
    public int ConnectionsPerRunnerWorker { get; set; } = 2;

    /// <summary>The most connections an API worker opens to one runner (16).</summary>
    public int MaxConnectionsPerRunner { get; set; } = 16;

    /// <summary>How long a runner worker waits for a new connection's hello before refusing it, in ms (10 s).</summary>
    public int RunnerHelloTimeoutMs { get; set; } = 10_000;

    /// <summary>How often a runner worker reports its call and batch statistics to the supervisor, in ms (1 s).</summary>
    public int StatsIntervalMs { get; set; } = 1_000;

    /// <summary>
    /// The bound of a batch queue, in batches of the method's batch size (16): enough for bursts, short
    /// enough that an overloaded runner sheds (503 + Retry-After) before clients time out.
    /// </summary>
    public int BatchQueueBatches { get; set; } = 16;

    /// <summary>The connections of an API worker to a runner with <paramref name="runnerWorkers"/> workers.</summary>
    public int ConnectionsTo(int runnerWorkers) =>
        runnerWorkers <= 1 ? 1 : Math.Min(runnerWorkers * ConnectionsPerRunnerWorker, MaxConnectionsPerRunner);

    /// <summary>The first value out of range, as a sentence naming its host.json key; null when all are in range.</summary>
    public string? Problem()
    {
        static string? Check(string key, int value, int min, int max) =>
            value < min || value > max ? $"tuning.{key} must be between {min} and {max}; got {value}" : null;
        return Check("runnerConnectTimeoutMs", RunnerConnectTimeoutMs, 100, 600_000)
            ?? Check("deadlineSweepMs", DeadlineSweepMs, 1, 10_000)
            ?? Check("connectionsPerRunnerWorker", ConnectionsPerRunnerWorker, 1, 64)
            ?? Check("maxConnectionsPerRunner", MaxConnectionsPerRunner, 1, 256)
            ?? Check("runnerHelloTimeoutMs", RunnerHelloTimeoutMs, 100, 600_000)
            ?? Check("statsIntervalMs", StatsIntervalMs, 100, 600_000)
            ?? Check("batchQueueBatches", BatchQueueBatches, 1, 1_024);
    }
}
