namespace Serving.Shared;

// What the supervisor and the worker both name, defined once: the worker's --role and SERVING_ROLE,
// host.json's "protocol", a runner endpoint's "transport" and an API's "input" / "output". One file,
// linked into the supervisor (Serving.Runtime) and the worker (Serving.Worker); host.json carries the
// names, so a member's position never matters.

/// <summary>The roles a worker process plays (<c>--role api|runner|dev</c>).</summary>
public enum WorkerRole { Api, Runner, Dev }

/// <summary>The API protocol (host.json <c>protocol</c>; -Protocol).</summary>
public enum ServingProtocol { Http, Grpc }

/// <summary>How API workers reach runner workers (host.json <c>runnerEndpoints.*.transport</c>: Uds or Tcp).</summary>
public enum RunnerTransport
{
    /// <summary>No runner transport: the platform is unsupported.</summary>
    None,
    /// <summary>Unix domain sockets in a private directory (POSIX except WSL).</summary>
    Uds,
    /// <summary>TCP on 127.0.0.1 with a per-host secret (Windows, WSL).</summary>
    Tcp,
    /// <summary>Runners live in the API process (development mode): no endpoint is written.</summary>
    InProcess,
}

/// <summary>What an API's request and response bodies are (host.json <c>apis[].input</c> / <c>output</c>; the manifest's Input / Output).</summary>
public enum PayloadKind { Json, Text, Bytes }

/// <summary>How workers write their log lines (host.json <c>logFormat</c>; -LogFormat): plain <c>info: …</c> lines, or one JSON object per line.</summary>
public enum LogFormat { Text, Json }

/// <summary>
/// The lines a worker prints on its stdout for the supervisor, not for the log: <c>@@serving</c> and a word
/// (docs/worker-protocol.md). Written by the worker, read by the supervisor.
/// </summary>
public static class WorkerStatusLines
{
    /// <summary>What every such line starts with; the supervisor keeps none of them as log lines.</summary>
    public const string Prefix = "@@serving ";

    /// <summary>The worker is listening and (a runner) initialised.</summary>
    public const string Ready = "@@serving ready";

    /// <summary>A drain began.</summary>
    public const string Stopping = "@@serving stopping";

    /// <summary>After <c>stop-accepting</c>: the listening sockets are closed; no new connection reaches the worker.</summary>
    public const string NotAccepting = "@@serving not-accepting";

    /// <summary>A runner worker's counters: this, then one JSON object.</summary>
    public const string StatsPrefix = "@@serving stats ";
}
