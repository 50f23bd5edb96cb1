namespace Serving;

// What the supervisor and the worker both name, defined once: the worker's --role and SERVING_ROLE,
// and host.json's "protocol". One file, linked into the supervisor (Serving.Runtime) and the worker
// (Serving.Worker).

/// <summary>The roles a worker process plays (<c>--role api|runner|dev</c>).</summary>
public enum WorkerRole { Api, Runner, Dev }

/// <summary>The API protocol (host.json <c>protocol</c>; -Protocol).</summary>
public enum ServingProtocol { Http, Grpc }
